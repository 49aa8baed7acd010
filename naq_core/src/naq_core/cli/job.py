"""``naq job``: look at a job by id (show, status, result), cancel or requeue it.

``naq job`` with no command is an interactive picker (see :mod:`naq_core.cli._picker`).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import click

from naq_core.cli._complete import complete_job_id
from naq_core.cli._jobview import echo_record
from naq_core.cli._state import echo_json, get_state, run_async
from naq_core.cli.job_control import cancel, requeue

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


@click.group(invoke_without_command=True)
@click.pass_context
def job(ctx: click.Context) -> None:
    """Look at, cancel or requeue a job by its id.

    Without a command, `naq job` lets you pick a job on the terminal: filter by queue,
    status and function, choose one from a list, then choose what to do with it.
    """
    if ctx.invoked_subcommand is None:
        from naq_core.cli._picker import pick

        pick(ctx)


_job_id = click.argument("job_id", shell_complete=complete_job_id)


_record_json = click.option("--json", "as_json", is_flag=True, help="Print the whole record as JSON.")


def _print_record(ctx: click.Context, job_id: str, as_json: bool, *, full: bool) -> None:
    record = run_async(_record(get_state(ctx).config(), job_id))
    if as_json:
        echo_json(record.to_dict())
    else:
        echo_record(record, full=full)


@job.command()
@_job_id
@_record_json
@click.pass_context
def show(ctx: click.Context, job_id: str, as_json: bool) -> None:
    """Show everything known about JOB_ID: status, times, result, error and traceback."""
    _print_record(ctx, job_id, as_json, full=True)


@job.command()
@_job_id
@_record_json
@click.pass_context
def status(ctx: click.Context, job_id: str, as_json: bool) -> None:
    """Show the status of JOB_ID (and its error, if it failed)."""
    _print_record(ctx, job_id, as_json, full=False)


@job.command()
@_job_id
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


job.add_command(cancel)
job.add_command(requeue)
