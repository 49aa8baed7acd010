"""``naq job`` with no command: pick a job on the terminal, then what to do with it.

Plain prompts (click.prompt), so it works in any terminal, over ssh, in tmux; no curses.
Without a terminal it refuses at once: a script must name the job.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from naq_core.cli._jobview import jobs_table
from naq_core.cli._state import get_state, run_async

if TYPE_CHECKING:
    from naq_core.config import Config
    from naq_core.job import JobStatus
    from naq_core.results import JobRecord

__all__ = ["ACTIONS", "LIMIT", "pick"]

LIMIT = 20
ACTIONS = ("show", "status", "result", "cancel", "requeue")
_ANY = "any"


class _QueueName(click.ParamType[str]):
    name = "queue"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from naq_core.config import validate_queue_name
        from naq_core.errors import ConfigurationError

        text = str(value).strip()
        if not text:
            return ""
        try:
            return validate_queue_name(text)
        except ConfigurationError as exc:
            self.fail(str(exc), param, ctx)


async def _find(
    config: Config, queue: str | None, status: JobStatus | None, function: str | None
) -> list[JobRecord]:
    from naq_core.jetstream import connect
    from naq_core.job_lookup import recent_jobs

    conn = await connect(config, name="naq-cli")
    try:
        return await recent_jobs(conn, queue=queue, status=status, function=function, limit=LIMIT)
    finally:
        await conn.close()


def _is_terminal() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def pick(ctx: click.Context) -> None:
    """Ask for filters, list matching jobs, ask which one and what to do, then do it."""
    from naq_core.job import JobStatus

    if not _is_terminal():
        raise click.UsageError(
            "no terminal to pick a job on; pass a job id: naq job show|status|result|cancel|requeue JOB_ID",
            ctx,
        )
    config = get_state(ctx).config()
    click.echo(f"Pick a job (the {LIMIT} most recent that match; Enter skips a filter).")
    queue = click.prompt("Queue", default="", show_default=False, type=_QueueName())
    statuses = [_ANY, *(s.value for s in JobStatus)]
    status = click.prompt("Status", default=_ANY, type=click.Choice(statuses))
    function = click.prompt("Function name contains", default="", show_default=False).strip()
    records = run_async(
        _find(config, queue or None, None if status == _ANY else JobStatus(status), function or None)
    )
    if not records:
        click.echo("No matching jobs.")
        return
    click.echo(jobs_table(records, numbered=True))
    number = click.prompt("Job number", type=click.IntRange(1, len(records)), default=1)
    chosen = records[number - 1]
    action = click.prompt("Action", type=click.Choice(ACTIONS), default=_default_action(chosen))
    group = ctx.command
    assert isinstance(group, click.Group)
    command = group.get_command(ctx, action)
    assert command is not None
    if action in ("cancel", "requeue"):
        ctx.invoke(command, job_ids=(chosen.job_id,))
    else:
        ctx.invoke(command, job_id=chosen.job_id)


def _default_action(record: JobRecord) -> str:
    from naq_core.job import JobStatus

    if record.status is JobStatus.COMPLETED:
        return "result"
    return "show"
