"""naq-stats: ``naq stats QUEUE...`` counts the job messages waiting in each queue."""

from __future__ import annotations

import click

from naq_core import hookimpl
from naq_core.cli import NaqContext, pass_naq_context, table
from naq_core.jetstream import JOBS_STREAM, queue_filter


@click.command("stats")
@click.argument("queues", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_naq_context
def stats(ctx: NaqContext, queues: tuple[str, ...], as_json: bool) -> None:
    """Count the job messages waiting in QUEUES."""

    async def count() -> dict[str, int]:
        async with ctx.connect() as conn:  # closed when the block ends
            counts = {}
            for queue in queues:
                info = await conn.js.stream_info(JOBS_STREAM, subjects_filter=queue_filter(queue))
                counts[queue] = sum((info.state.subjects or {}).values())
            return counts

    counts = ctx.run(count())  # click commands are synchronous: run the coroutine here
    if as_json:
        ctx.echo_json(counts)
    else:
        click.echo(table(("QUEUE", "MESSAGES"), sorted(counts.items())))


@hookimpl
def naq_register_commands(cli: click.Group) -> None:
    cli.add_command(stats)
