"""``naq purge``: delete every job waiting in one or more queues (after confirmation)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from naq_core.cli._complete import complete_queue
from naq_core.cli._confirm import confirm, describe, refusal
from naq_core.cli._progress import progress
from naq_core.cli._state import echo_json, echo_nothing, get_state, run_async
from naq_core.cli.params import QUEUE_NAME

if TYPE_CHECKING:
    from naq_core.config import Config
    from naq_core.jetstream import Connection

__all__ = ["purge"]

_SHOWN = 5  # queue names spelled out in a question about many queues


async def _open(config: Config) -> Connection:
    from naq_core.jetstream import connect

    return await connect(config, name="naq-cli")


async def _counts(config: Config, names: tuple[str, ...], every: bool) -> dict[str, int]:
    """Jobs waiting per queue: the named ones, or every queue with jobs (``--all``)."""
    from naq_core.overview import queue_stats

    conn = await _open(config)
    try:
        stats = await queue_stats(conn, None if every else names)
    finally:
        await conn.close()
    return {s.queue: s.jobs for s in stats if s.jobs or not every}


async def _purge(config: Config, names: list[str]) -> dict[str, int]:
    from naq_core.queue import Queue

    conn = await _open(config)
    purged: dict[str, int] = {}
    try:
        with progress(names, "Purging queues") as items:
            for name in items:
                purged[name] = await Queue(name, connection=conn).purge()
    finally:
        await conn.close()
    return purged


def _target(names: list[str]) -> str:
    if len(names) == 1:
        return names[0]
    shown = ", ".join(names[:_SHOWN])
    more = len(names) - _SHOWN
    return f"{len(names)} queues ({shown}{f' and {more} more' if more > 0 else ''})"


@click.command()
@click.argument("queues", nargs=-1, type=QUEUE_NAME, metavar="[QUEUE]...", shell_complete=complete_queue)
@click.option("--all", "every", is_flag=True, help="Purge every queue that has jobs waiting.")
@click.option("-y", "--force", is_flag=True, help="Do not ask for confirmation.")
@click.option("--json", "as_json", is_flag=True, help='Print [{"queue": ..., "purged": N}].')
@click.pass_context
def purge(ctx: click.Context, queues: tuple[str, ...], every: bool, force: bool, as_json: bool) -> None:
    """Delete every job waiting in QUEUE(s) (or --all queues). Prints how many were removed.

    Running jobs still finish, and job records stay until they expire. Plugins decide
    whether to ask first: naq-confirm-purge shows what will go and asks on a terminal,
    refuses without one (exit code 2) unless -y is given.
    """
    if every == bool(queues):
        raise click.UsageError("name the queues to purge, or pass --all", ctx)
    config = get_state(ctx).config()
    counts = run_async(_counts(config, queues, every))
    names = list(counts) if every else list(dict.fromkeys(queues))
    if not names:
        echo_nothing(as_json, "No queue has jobs waiting; nothing to purge.")
        return
    total = sum(counts.get(name, 0) for name in names)
    target = _target(names)
    if not confirm(action="purge", target=target, count=total, force=force):
        raise refusal("purge", describe(target, total, "jobs"), force)
    purged = run_async(_purge(config, names))
    if as_json:
        echo_json([{"queue": name, "purged": number} for name, number in purged.items()])
        return
    for name, number in purged.items():
        click.echo(f"Purged {number} job{'' if number == 1 else 's'} from {name}")
