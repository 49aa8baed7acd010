"""``naq schedule``: list, cancel, pause, resume, modify and run scheduled jobs.

The schedules themselves live in the NATS server (message schedules); these commands read
and change naq's record of them through the public :class:`~naq_core.queue.Queue` API.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click
from click.shell_completion import CompletionItem

from naq_core.cli._complete import _lookup, complete_queue
from naq_core.cli._confirm import require_confirmation
from naq_core.cli._progress import progress
from naq_core.cli._state import echo_json, echo_nothing, get_state, run_async, table
from naq_core.cli.params import QUEUE_NAME
from naq_core.schedules import Schedule, ScheduleStatus, upcoming_run

if TYPE_CHECKING:
    from naq_core.config import Config
    from naq_core.jetstream import Connection
    from naq_core.job import Job

__all__ = ["schedule"]

_STATUSES = [s.value for s in ScheduleStatus]


# --- talking to NATS ---------------------------------------------------------------------------


async def _list(config: Config) -> list[Schedule]:
    from naq_core.queue import Queue

    async with Queue(config=config) as queue:
        return await queue.list_schedules(all_queues=True)


async def _get_many(config: Config, ids: Sequence[str]) -> list[Schedule]:
    """Every schedule of ``ids``; raises ``JobNotFoundError`` for the first unknown one."""
    from naq_core.queue import Queue

    async with Queue(config=config) as queue:
        return [await queue.get_schedule(schedule_id) for schedule_id in ids]


async def _cancel_many(config: Config, ids: Sequence[str]) -> tuple[list[Schedule], list[str]]:
    """Cancel each of ``ids``; the ones gone in the meantime (a one-off that fired) are listed."""
    from naq_core.errors import JobNotFoundError
    from naq_core.queue import Queue

    cancelled: list[Schedule] = []
    gone: list[str] = []
    async with Queue(config=config) as queue:
        with progress(ids, "Cancelling schedules") as items:
            for schedule_id in items:
                try:
                    cancelled.append(await queue.cancel_scheduled_job(schedule_id))
                except JobNotFoundError:
                    gone.append(schedule_id)
    return cancelled, gone


async def _change(config: Config, method: str, schedule_id: str, **kwargs: Any) -> tuple[Schedule, Any]:
    """The schedule before, and what ``Queue.<method>(schedule_id, **kwargs)`` returned."""
    from naq_core.queue import Queue

    async with Queue(config=config) as queue:
        before = await queue.get_schedule(schedule_id)
        return before, await getattr(queue, method)(schedule_id, **kwargs)


def complete_schedule_id(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Ids of the schedules of every queue (none when NATS is slow or unreachable)."""

    async def fetch(conn: Connection) -> list[str]:
        from naq_core.queue import Queue

        found = await Queue(connection=conn).list_schedules(all_queues=True)
        return [s.schedule_id for s in found if s.schedule_id.startswith(incomplete)]

    return [CompletionItem(schedule_id) for schedule_id in _lookup(ctx, fetch)]


# --- presentation ------------------------------------------------------------------------------


def span(seconds: float) -> str:
    """``42s``, ``5m``, ``3h 10m``, ``2d 4h``: the two largest units, rounded down."""
    s = int(max(0.0, seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m" + (f" {s % 60}s" if s < 600 and s % 60 else "")
    if s < 86400:
        return f"{s // 3600}h" + (f" {s % 3600 // 60}m" if s % 3600 // 60 else "")
    return f"{s // 86400}d" + (f" {s % 86400 // 3600}h" if s % 86400 // 3600 else "")


def when(timestamp: float | None, now: float) -> str:
    """``2026-03-02 09:30:00 (in 5m)`` in local time; ``-`` for nothing."""
    if timestamp is None:
        return "-"
    local = dt.datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M:%S")
    delta = timestamp - now
    relative = f"in {span(delta)}" if delta >= 1 else ("now" if delta > -1 else f"{span(-delta)} overdue")
    return f"{local} ({relative})"


def firings(schedule: Schedule) -> str:
    return f"{schedule.firings}/{schedule.repeat}" if schedule.repeat is not None else str(schedule.firings)


def _as_json(schedule: Schedule, now: float) -> dict[str, Any]:
    data = schedule.to_dict()
    data["next_run"] = upcoming_run(schedule, now)
    data["schedule"] = schedule.describe()
    return data


def _some(ids: Sequence[str], shown: int = 3) -> str:
    """``nightly, s3f2a9c0e41d8aa01 and 3 more``."""
    text = ", ".join(ids[:shown])
    return f"{text} and {len(ids) - shown} more" if len(ids) > shown else text


def _validated_queues(queues: Sequence[str]) -> set[str]:
    from naq_core.config import validate_queue_name

    return {validate_queue_name(name) for name in queues}


# --- commands ----------------------------------------------------------------------------------


@click.group()
def schedule() -> None:
    """Scheduled jobs: one-offs (enqueue_at/enqueue_in), intervals and cron.

    The NATS server keeps and fires the schedules; no naq process has to run for them
    except the workers that run the jobs.
    """


@schedule.command("list")
@click.option(
    "-q",
    "--queue",
    "queues",
    multiple=True,
    type=QUEUE_NAME,
    metavar="QUEUE",
    shell_complete=complete_queue,
    help="Only this queue (repeatable). Default: all.",
)
@click.option("--status", "statuses", multiple=True, type=click.Choice(_STATUSES), help="Only this status.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one object per schedule).")
@click.pass_context
def list_schedules(
    ctx: click.Context, queues: tuple[str, ...], statuses: tuple[str, ...], as_json: bool
) -> None:
    """List the schedules of every queue, soonest next run first.

    NEXT RUN is local time; FIRINGS counts the firings workers have taken (of REPEAT, when
    the schedule stops after that many).
    """
    wanted = _validated_queues(queues)
    found = run_async(_list(get_state(ctx).config()))
    now = time.time()
    shown = [
        s for s in found if (not wanted or s.queue in wanted) and (not statuses or s.status.value in statuses)
    ]
    if as_json:
        echo_json([_as_json(s, now) for s in shown])
        return
    if not shown:
        click.echo("No schedules.")
        return
    rows = [
        (
            s.schedule_id,
            s.queue,
            s.function,
            when(upcoming_run(s, now), now),
            s.describe(),
            s.status.value,
            firings(s),
        )
        for s in shown
    ]
    click.echo(table(("ID", "QUEUE", "FUNCTION", "NEXT RUN", "SCHEDULE", "STATUS", "FIRINGS"), rows))


@schedule.command()
@click.argument("schedule_ids", nargs=-1, metavar="[ID]...", shell_complete=complete_schedule_id)
@click.option("--all", "cancel_all", is_flag=True, help="Cancel every schedule (of --queue, if given).")
@click.option(
    "-q",
    "--queue",
    "queues",
    multiple=True,
    type=QUEUE_NAME,
    metavar="QUEUE",
    shell_complete=complete_queue,
    help="With --all: only this queue (repeatable).",
)
@click.option("-y", "--force", is_flag=True, help="Do not ask before cancelling several schedules.")
@click.option("--json", "as_json", is_flag=True, help='Print [{"schedule_id", "queue", "cancelled"}].')
@click.pass_context
def cancel(
    ctx: click.Context,
    schedule_ids: tuple[str, ...],
    cancel_all: bool,
    queues: tuple[str, ...],
    force: bool,
    as_json: bool,
) -> None:
    """Cancel schedules for good: ID(s), or --all [--queue Q].

    Nothing more fires, and firings still waiting in the queue are skipped (a job already
    running finishes); a one-off that has not run is recorded as cancelled. Cancelling more
    than one goes through the confirmation plugins (naq-confirm-purge asks unless -y).
    """
    if cancel_all == bool(schedule_ids):
        raise click.UsageError(
            "give schedule IDs or --all, not both" if cancel_all else "give schedule IDs or --all"
        )
    if queues and not cancel_all:
        raise click.UsageError("--queue goes with --all")
    config = get_state(ctx).config()
    if cancel_all:
        wanted = _validated_queues(queues)
        targets = [s for s in run_async(_list(config)) if not wanted or s.queue in wanted]
        target = f"schedules of {', '.join(sorted(wanted))}" if wanted else "every schedule"
        if not targets:
            echo_nothing(as_json, "No schedules to cancel.")
            return
    else:
        targets = run_async(_get_many(config, list(dict.fromkeys(schedule_ids))))
        target = _some([s.schedule_id for s in targets])
    if len(targets) > 1:
        require_confirmation(
            action="schedule cancel", target=target, count=len(targets), force=force, noun="schedules"
        )
    cancelled, gone = run_async(_cancel_many(config, [s.schedule_id for s in targets]))
    if as_json:
        queue_of = {s.schedule_id: s.queue for s in targets}
        rows = [{"schedule_id": s.schedule_id, "queue": s.queue, "cancelled": True} for s in cancelled]
        echo_json(rows + [{"schedule_id": i, "queue": queue_of[i], "cancelled": False} for i in gone])
        return
    for item in cancelled:
        click.echo(f"Cancelled {item.schedule_id} ({item.queue}, {item.function}, {item.describe()})")
    for schedule_id in gone:
        click.echo(f"Already gone: {schedule_id} (it fired or was cancelled meanwhile)")


@schedule.command()
@click.argument("schedule_id", metavar="ID", shell_complete=complete_schedule_id)
@click.pass_context
def pause(ctx: click.Context, schedule_id: str) -> None:
    """Stop ID from firing until it is resumed (a firing already queued still runs)."""
    from naq_core.errors import NaqError

    before, _ = run_async(_change(get_state(ctx).config(), "pause_scheduled_job", schedule_id))
    if before.status is ScheduleStatus.DONE:
        raise NaqError(f"schedule {schedule_id!r} is done; there is nothing to pause")
    if before.status is ScheduleStatus.PAUSED:
        click.echo(f"Schedule {schedule_id} is already paused.")
    else:
        click.echo(f"Paused {schedule_id}.")


@schedule.command()
@click.argument("schedule_id", metavar="ID", shell_complete=complete_schedule_id)
@click.pass_context
def resume(ctx: click.Context, schedule_id: str) -> None:
    """Let a paused ID fire again, from its next due time (missed runs are skipped)."""
    from naq_core.errors import NaqError

    before, after = run_async(_change(get_state(ctx).config(), "resume_scheduled_job", schedule_id))
    if before.status is ScheduleStatus.DONE:
        raise NaqError(f"schedule {schedule_id!r} is done; schedule it again to run more")
    now = time.time()
    next_run = when(upcoming_run(after, now), now)
    if before.status is ScheduleStatus.ACTIVE:
        click.echo(f"Schedule {schedule_id} is already active; next run {next_run}.")
    else:
        click.echo(f"Resumed {schedule_id}; next run {next_run}.")


def _iso(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 time (like 2026-03-02T09:30:00+01:00)"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


@schedule.command()
@click.argument("schedule_id", metavar="ID", shell_complete=complete_schedule_id)
@click.option("--cron", metavar="EXPR", help="A new cron: 5 fields (minute first) or 6 (second first).")
@click.option("--tz", metavar="TZ", help="With --cron: an IANA time zone (Europe/Paris). Default: UTC.")
@click.option("--interval", type=float, metavar="SECONDS", help="Fire every SECONDS instead (at least 1).")
@click.option(
    "--next-run",
    callback=_iso,
    metavar="ISO",
    help="A one-off's new time, ISO 8601; without an offset it is UTC.",
)
@click.option("--repeat", type=click.IntRange(min=1), metavar="N", help="Stop after N firings in all.")
@click.pass_context
def modify(
    ctx: click.Context,
    schedule_id: str,
    cron: str | None,
    tz: str | None,
    interval: float | None,
    next_run: dt.datetime | None,
    repeat: int | None,
) -> None:
    """Give ID a new cron, interval or next run, and/or a new --repeat."""
    if sum(x is not None for x in (cron, interval, next_run)) > 1:
        raise click.UsageError("give one of --cron, --interval or --next-run")
    if tz is not None and cron is None:
        raise click.UsageError("--tz goes with --cron")
    if cron is None and interval is None and next_run is None and repeat is None:
        raise click.UsageError("nothing to change: give --cron, --interval, --next-run or --repeat")
    changes = {"cron": cron, "tz": tz, "interval": interval, "next_run": next_run, "repeat": repeat}
    try:
        _, after = run_async(_change(get_state(ctx).config(), "modify_scheduled_job", schedule_id, **changes))
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    now = time.time()
    click.echo(f"Modified {schedule_id}: {after.describe()}; next run {when(upcoming_run(after, now), now)}.")


@schedule.command("run-now")
@click.argument("schedule_id", metavar="ID", shell_complete=complete_schedule_id)
@click.pass_context
def run_now(ctx: click.Context, schedule_id: str) -> None:
    """Enqueue one run of ID now, as a job of its own, and print its job id.

    The schedule itself is unchanged (its firings count does not move).
    """
    _, job = run_async(_change(get_state(ctx).config(), "run_scheduled_job_now", schedule_id))
    ran: Job = job
    click.echo(ran.job_id)
