"""``naq job``: look at one job by id (status, result)."""

from __future__ import annotations

import contextlib
import datetime
from typing import TYPE_CHECKING, Any

import click

from naq_core.cli._state import echo_json, get_state, run_async

if TYPE_CHECKING:
    from naq_core.config import Config
    from naq_core.results import JobRecord

__all__ = ["job"]


async def _record(config: Config, job_id: str) -> JobRecord:
    from naq_core.queue import Queue

    async with Queue(config=config) as queue:
        return await queue.job_record(job_id)


async def _result(config: Config, job_id: str, timeout: float | None) -> JobRecord:
    """The record of a finished job; waits up to ``timeout`` (``None``: do not wait)."""
    from naq_core.errors import NaqError
    from naq_core.queue import Queue

    async with Queue(config=config) as queue:
        record = await queue.job_record(job_id)
        if not record.finished and timeout:
            with contextlib.suppress(NaqError):  # failed or timed out: the record says which
                await queue.fetch_job_result(job_id, timeout=timeout)
            record = await queue.job_record(job_id)
        return record


def _when(timestamp: float | None) -> str:
    if timestamp is None:
        return "-"
    return datetime.datetime.fromtimestamp(timestamp).isoformat(sep=" ", timespec="seconds")


@click.group()
def job() -> None:
    """Inspect a job by its id."""


@job.command()
@click.argument("job_id")
@click.option("--json", "as_json", is_flag=True, help="Print the whole record as JSON.")
@click.pass_context
def status(ctx: click.Context, job_id: str, as_json: bool) -> None:
    """Show the status of JOB_ID (and its error, if it failed)."""
    record = run_async(_record(get_state(ctx).config(), job_id))
    if as_json:
        echo_json(record.to_dict())
        return
    fields: list[tuple[str, Any]] = [
        ("job", record.job_id),
        ("status", record.status.value),
        ("queue", record.queue or "-"),
        ("function", record.function or "-"),
        ("attempt", record.attempt),
        ("enqueued", _when(record.enqueued_at)),
        ("started", _when(record.started_at)),
        ("finished", _when(record.finished_at)),
        ("worker", record.worker_id or "-"),
    ]
    if record.error_type or record.error:
        fields.append(("error", f"{record.error_type}: {record.error}"))
    for key, value in fields:
        click.echo(f"{key + ':':<10}{value}")


@job.command()
@click.argument("job_id")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    metavar="S",
    help="Wait up to S seconds for the job to finish (default: do not wait).",
)
@click.option("--json", "as_json", is_flag=True, help="Print {job_id, status, result} as JSON.")
@click.pass_context
def result(ctx: click.Context, job_id: str, timeout: float | None, as_json: bool) -> None:
    """Print the return value of JOB_ID (an error if it failed or has not finished)."""
    from naq_core.errors import NaqError

    record = run_async(_result(get_state(ctx).config(), job_id, timeout))
    if not record.finished:
        hint = "pass --timeout S to wait" if not timeout else f"waited {timeout:g} s"
        raise NaqError(f"job {job_id} has not finished (status: {record.status.value}); {hint}")
    record.raise_for_status()
    if as_json:
        echo_json({"job_id": record.job_id, "status": record.status.value, "result": record.result})
    else:
        click.echo(repr(record.result))
