"""``naq purge``: delete every job waiting in one or more queues (after confirmation)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from naq_core.cli._state import Refused, get_state, run_async

if TYPE_CHECKING:
    from naq_core.config import Config

__all__ = ["purge"]


async def _counts(config: Config, names: tuple[str, ...]) -> dict[str, int]:
    from naq_core.queue import Queue

    counts: dict[str, int] = {}
    for name in names:
        async with Queue(name, config=config) as queue:
            counts[name] = await queue.count()
    return counts


async def _purge(config: Config, names: list[str]) -> dict[str, int]:
    from naq_core.queue import Queue

    purged: dict[str, int] = {}
    for name in names:
        async with Queue(name, config=config) as queue:
            purged[name] = await queue.purge()
    return purged


@click.command()
@click.argument("queues", nargs=-1, required=True, metavar="QUEUE...")
@click.option("-y", "--force", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def purge(ctx: click.Context, queues: tuple[str, ...], force: bool) -> None:
    """Delete every job waiting in QUEUE(s). Running jobs and results are kept.

    Plugins decide whether to ask first (naq-confirm-purge asks unless -y is given).
    """
    from naq_core.config import validate_queue_name
    from naq_core.plugins import get_hooks

    for name in queues:
        validate_queue_name(name)
    config = get_state(ctx).config()
    counts = run_async(_counts(config, queues))
    hooks = get_hooks()
    allowed = [
        name
        for name in queues
        if hooks.confirm_destructive(action="purge", target=name, count=counts[name], force=force)
    ]
    refused = [name for name in queues if name not in allowed]
    if allowed:
        for name, number in run_async(_purge(config, allowed)).items():
            click.echo(f"Purged {number} job{'' if number == 1 else 's'} from {name}")
    if refused:
        what = ", ".join(f"{name} ({counts[name]} jobs)" for name in refused)
        raise Refused(f"purge not confirmed, nothing deleted from {what}")
