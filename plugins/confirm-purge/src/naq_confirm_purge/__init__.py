"""naq-confirm-purge: naq asks before it deletes anything.

Implements ``naq_confirm_destructive``, the hook every destructive ``naq`` command calls
first (``naq purge``, ``naq job cancel`` of several jobs, ``naq dlq purge``, ...):

* ``--force`` / ``-y`` given, or nothing to delete: go ahead without asking;
* on a terminal: show the action, its target and how many items go, then ask ``[y/N]``
  on stderr (Enter, ``n`` or Ctrl-D answer no);
* without a terminal (a script, cron, CI): refuse. The command then prints one line
  saying so and exits with code 2; pass ``--force`` in scripts.

The implementation is ``trylast``: any other plugin that answers (``True`` or ``False``)
decides instead, and one that returns ``None`` leaves the question to this one.
"""

from __future__ import annotations

import sys

import click

from naq_core.hookspecs import hookimpl

__all__ = ["naq_confirm_destructive"]

__version__ = "0.2.0"

#: What the items of an action are called in the question (default: "items").
_NOUNS = {"purge": "jobs", "job cancel": "jobs", "dlq purge": "dead letters", "schedule cancel": "schedules"}


def _interactive() -> bool:
    """Whether someone can answer: stdin is a terminal."""
    return sys.stdin.isatty()


def _how_many(action: str, count: int | None) -> str:
    if count is None:
        return "an unknown number"
    noun = _NOUNS.get(action, "items")
    return f"{count} {noun.removesuffix('s') if count == 1 and noun.endswith('s') else noun}"


@hookimpl(trylast=True)
def naq_confirm_destructive(action: str, target: str, count: int | None, force: bool) -> bool:
    """Go ahead with ``force``; else ask on a terminal, refuse without one."""
    if force or count == 0:
        return True
    if not _interactive():
        return False
    click.echo("naq is about to delete:", err=True)
    click.echo(f"  action: {action}", err=True)
    click.echo(f"  target: {target}", err=True)
    click.echo(f"  count:  {_how_many(action, count)}", err=True)
    try:
        return click.confirm("Go ahead?", default=False, err=True)
    except click.Abort as exc:
        if isinstance(exc.__cause__ or exc.__context__, KeyboardInterrupt):
            raise  # Ctrl-C: the command stops (exit code 130)
        click.echo("", err=True)  # Ctrl-D: a no, on its own line
        return False
