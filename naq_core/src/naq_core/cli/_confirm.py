"""Asking before a command deletes anything: the ``naq_confirm_destructive`` hook.

Every destructive command (``naq purge``, ``naq job cancel`` of several jobs, plugin
commands such as ``naq dlq purge``) asks through :func:`require_confirmation`, so a
confirming plugin (naq-confirm-purge) covers them all and the refusal reads the same
everywhere: one line on stderr, exit code 2.
"""

from __future__ import annotations

import sys

from naq_core.cli._state import Refused

__all__ = ["confirm", "describe", "refusal", "require_confirmation"]


def describe(target: str, count: int | None, noun: str = "items") -> str:
    """``emails (3 jobs)``; ``emails`` when the count is unknown."""
    if count is None:
        return target
    if count == 1:
        noun = noun.removesuffix("s")
    return f"{target} ({count} {noun})"


def confirm(*, action: str, target: str, count: int | None, force: bool) -> bool:
    """The plugins' answer; ``True`` (go ahead) when none of them answers."""
    from naq_core.plugins import get_hooks

    return get_hooks().confirm_destructive(action=action, target=target, count=count, force=force)


def refusal(action: str, what: str, force: bool) -> Refused:
    """The error of a refused ``action`` on ``what`` (see :func:`describe`)."""
    if not force and not sys.stdin.isatty():
        return Refused(
            f"{action} of {what} not confirmed: there is no terminal to ask on; nothing deleted "
            "(pass --force or -y to go ahead)"
        )
    return Refused(f"{action} of {what} not confirmed; nothing deleted")


def require_confirmation(
    *, action: str, target: str, count: int | None, force: bool, noun: str = "items"
) -> None:
    """Ask the plugins; raise :class:`Refused` (exit code 2, one line) if they say no."""
    if not confirm(action=action, target=target, count=count, force=force):
        raise refusal(action, describe(target, count, noun), force)
