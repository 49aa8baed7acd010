"""``naq job cancel`` and ``naq job requeue``: one job, several, or every failed one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

import click

from naq_core.cli._complete import complete_job_id, complete_queue
from naq_core.cli._confirm import require_confirmation
from naq_core.cli._progress import progress
from naq_core.cli._state import echo_json, echo_nothing, get_state, run_async
from naq_core.cli.params import QUEUE_NAME

if TYPE_CHECKING:
    from naq_core.config import Config
    from naq_core.queue import Queue

__all__ = ["cancel", "requeue"]

#: (job id, what happened: a status or a queue name, error message or None)
Outcome = tuple[str, str | None, str | None]


async def _each(
    config: Config, ids: Sequence[str], action: Callable[[Queue, str], Awaitable[str]], label: str
) -> list[Outcome]:
    """Run ``action`` for every id on one connection; a naq error fails that id only."""
    from naq_core.errors import NaqConnectionError, NaqError
    from naq_core.queue import Queue

    outcomes: list[Outcome] = []
    async with Queue(config=config) as queue:
        with progress(ids, label) as items:
            for job_id in items:
                try:
                    outcomes.append((job_id, await action(queue, job_id), None))
                except NaqConnectionError:
                    raise
                except NaqError as exc:
                    if len(ids) == 1:
                        raise
                    outcomes.append((job_id, None, str(exc)))
    return outcomes


_ONE_LINE_EACH = 20  # more jobs than this: one summary line instead


def _report(outcomes: list[Outcome], as_json: bool, key: str, verb: str) -> None:
    """Print what happened; failures of a batch: one line each, then exit code 1."""
    from naq_core.errors import NaqError

    failed = [(job_id, error) for job_id, _, error in outcomes if error is not None]
    done = [(job_id, value) for job_id, value, error in outcomes if error is None]
    if as_json:
        echo_json([{"job_id": i, key: value, "error": error} for i, value, error in outcomes])
    else:
        if len(done) > _ONE_LINE_EACH:
            values = sorted({str(value) for _, value in done})
            click.echo(f"{verb} {len(done)} jobs ({key}: {', '.join(values)})")
        else:
            for job_id, value in done:
                click.echo(f"{verb} job {job_id} ({key}: {value})")
        for job_id, error in failed:
            click.echo(f"{job_id}: {error}", err=True)
    if failed:
        raise NaqError(f"{len(failed)} of {len(outcomes)} jobs failed (see above)")


def _some(ids: Sequence[str], shown: int = 3) -> str:
    """``3f2a9c0e41d8, a81b4d2c9e3f and 3 more``: enough of each id to recognise it."""
    text = ", ".join(job_id[:12] for job_id in ids[:shown])
    return f"{text} and {len(ids) - shown} more" if len(ids) > shown else text


async def _cancel_one(queue: Queue, job_id: str) -> str:
    return (await queue.cancel_job(job_id)).value


@click.command()
@click.argument("job_ids", nargs=-1, required=True, metavar="JOB_ID...", shell_complete=complete_job_id)
@click.option("-y", "--force", is_flag=True, help="Do not ask before cancelling several jobs.")
@click.option("--json", "as_json", is_flag=True, help='Print [{"job_id", "status", "error"}].')
@click.pass_context
def cancel(ctx: click.Context, job_ids: tuple[str, ...], force: bool, as_json: bool) -> None:
    """Cancel JOB_ID(s): queued, scheduled, waiting for dependencies, or running.

    A running async job is cancelled in its worker; a running sync function cannot be
    interrupted (an error says so). Cancelling several jobs asks first, like purge.
    """
    ids = list(dict.fromkeys(job_ids))
    if len(ids) > 1:
        require_confirmation(action="job cancel", target=_some(ids), count=len(ids), force=force, noun="jobs")
    outcomes = run_async(_each(get_state(ctx).config(), ids, _cancel_one, "Cancelling jobs"))
    _report(outcomes, as_json, "status", "Cancelled")


async def _requeue_one(queue: Queue, job_id: str) -> str:
    return (await queue.requeue_job(job_id)).queue_name


async def _failed_ids(config: Config, queue_name: str | None, function: str | None) -> list[str]:
    from naq_core.jetstream import connect
    from naq_core.job import JobStatus
    from naq_core.job_lookup import recent_jobs

    conn = await connect(config, name="naq-cli")
    try:
        records = await recent_jobs(
            conn,
            queue=queue_name,
            status=(JobStatus.FAILED, JobStatus.DEPENDENCY_FAILED),
            function=function,
            limit=None,
        )
    finally:
        await conn.close()
    return [record.job_id for record in reversed(records)]  # oldest first


@click.command()
@click.argument("job_ids", nargs=-1, metavar="[JOB_ID]...", shell_complete=complete_job_id)
@click.option("--failed", is_flag=True, help="Requeue every failed and dependency_failed job.")
@click.option(
    "-q",
    "--queue",
    "queue_name",
    type=QUEUE_NAME,
    metavar="QUEUE",
    shell_complete=complete_queue,
    help="With --failed.",
)
@click.option("--function", metavar="TEXT", help="With --failed: task names containing TEXT.")
@click.option("--json", "as_json", is_flag=True, help='Print [{"job_id", "queue", "error"}].')
@click.pass_context
def requeue(
    ctx: click.Context,
    job_ids: tuple[str, ...],
    failed: bool,
    queue_name: str | None,
    function: str | None,
    as_json: bool,
) -> None:
    """Put failed, dependency_failed or cancelled JOB_ID(s) back on their queue.

    The job keeps its id and starts again at attempt 1. With --failed, every failed and
    dependency_failed job whose record has not expired (narrowed by --queue, --function).
    """
    if failed == bool(job_ids):
        raise click.UsageError("name the jobs to requeue, or pass --failed", ctx)
    if (queue_name or function) and not failed:
        raise click.UsageError("--queue and --function go with --failed", ctx)
    config = get_state(ctx).config()
    ids = list(dict.fromkeys(job_ids)) or run_async(_failed_ids(config, queue_name, function))
    if not ids:
        echo_nothing(as_json, "No failed jobs to requeue.")
        return
    outcomes = run_async(_each(config, ids, _requeue_one, "Requeueing jobs"))
    _report(outcomes, as_json, "queue", "Requeued")
