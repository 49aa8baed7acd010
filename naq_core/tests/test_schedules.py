"""Delays and cron on NATS's own message schedules, against a real server."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid

import pytest
import worker_tasks
from support import eventually, running_worker

from naq_core import JobStatus, Queue, ServerVersionError
from naq_core.errors import JobNotFoundError
from naq_core.schedules import ScheduleKind, ScheduleStatus
from naq_core.server import EmbeddedServer


def key() -> str:
    return uuid.uuid4().hex


async def test_enqueue_at_never_fires_early(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as q, running_worker(nats_url, queue_name):
        due = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1.5)
        job = await q.enqueue_at(due, worker_tasks.add, 2, 2)
        assert await q.job_status(job.job_id) is JobStatus.SCHEDULED
        assert await q.fetch_job_result(job, timeout=10) == 4
        record = await q.job_record(job.job_id)
        assert record.started_at is not None
        # never early (how late depends on the machine's load, so it is not checked)
        assert record.started_at >= due.timestamp() - 0.05
        assert record.enqueued_at is not None and record.enqueued_at >= due.timestamp() - 0.05


async def test_enqueue_in_takes_every_enqueue_option(nats_url: str, queue_name: str) -> None:
    k = key()
    async with Queue(queue_name, nats_url) as q, running_worker(nats_url, queue_name):
        job = await q.enqueue_in(
            dt.timedelta(milliseconds=300),
            worker_tasks.fail_times,
            k,
            1,
            max_retries=2,
            retry_delay=0.1,
            timeout=5,
            result_ttl=60,
            job_id=f"delayed-{k}",
        )
        assert job.job_id == f"delayed-{k}"
        assert await q.fetch_job_result(job, timeout=10) == 2  # retried once, like any job


async def test_naive_datetimes_are_utc(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as q:
        naive = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(hours=1)
        job = await q.enqueue_at(naive, worker_tasks.add, 1, 1)
        schedule = await q.get_schedule(job.job_id)
        assert schedule.at == pytest.approx(naive.replace(tzinfo=dt.UTC).timestamp())
        await q.cancel_scheduled_job(job.job_id)


async def test_every_second_cron_keeps_firing(nats_url: str, queue_name: str) -> None:
    k = key()
    async with Queue(queue_name, nats_url) as q, running_worker(nats_url, queue_name):
        schedule = await q.schedule(worker_tasks.count, k, cron="* * * * * *")

        async def three_firings() -> bool:
            return (await q.get_schedule(schedule.schedule_id)).firings >= 3

        await eventually(three_firings, timeout=30)
        await q.cancel_scheduled_job(schedule.schedule_id)
        assert await schedule_messages(q, schedule.schedule_id) == 0  # nothing left to fire

        async def three_ran() -> bool:  # each firing counted is a job of its own that runs
            return worker_tasks.calls.get(k, 0) >= 3

        await eventually(three_ran, timeout=10)


async def schedule_messages(q: Queue, schedule_id: str) -> int:
    """How many schedule messages the server holds for ``schedule_id`` (0 or 1): what fires."""
    conn = await q.connection()
    info = await conn.js.stream_info("naq_jobs", subjects_filter=f"naq.sched.{q.name}.{schedule_id}")
    return sum((info.state.subjects or {}).values())


async def test_each_firing_is_a_job_with_its_own_id_and_result(nats_url: str, queue_name: str) -> None:
    k = key()
    async with Queue(queue_name, nats_url) as q, running_worker(nats_url, queue_name):
        schedule = await q.schedule(worker_tasks.count, k, interval=1, repeat=2, name=f"n{k[:8]}")

        async def done() -> bool:
            return (await q.get_schedule(schedule.schedule_id)).status is ScheduleStatus.DONE

        await eventually(done, timeout=10)
        final = await q.get_schedule(schedule.schedule_id)
        assert final.firings == 2
        assert final.last_job_id and final.last_job_id.startswith(f"{schedule.schedule_id}-")
        assert await q.fetch_job_result(final.last_job_id, timeout=5) in (1, 2)
        # repeat=2: the server no longer holds the schedule message, so no third firing
        assert await schedule_messages(q, schedule.schedule_id) == 0

        async def both_ran() -> bool:
            return worker_tasks.calls.get(k, 0) == 2

        await eventually(both_ran, timeout=10)


async def test_cancel_stops_a_pending_job(nats_url: str, queue_name: str) -> None:
    k = key()
    async with Queue(queue_name, nats_url) as q, running_worker(nats_url, queue_name):
        job = await q.enqueue_in(1, worker_tasks.count, k)
        assert await schedule_messages(q, job.job_id) == 1
        await q.cancel_scheduled_job(job.job_id)
        assert await schedule_messages(q, job.job_id) == 0  # the server has nothing to fire
        assert await q.job_status(job.job_id) is JobStatus.CANCELLED
        with pytest.raises(JobNotFoundError):
            await q.get_schedule(job.job_id)
        # a job due after the cancelled one has run: the cancelled one would have run first
        later = await q.enqueue_in(1.5, worker_tasks.count, k + "-later")
        assert await q.fetch_job_result(later, timeout=15) == 1
        assert await q.job_status(job.job_id) is JobStatus.CANCELLED
    assert k not in worker_tasks.calls


async def test_pause_and_resume(nats_url: str, queue_name: str) -> None:
    k = key()
    async with Queue(queue_name, nats_url) as q, running_worker(nats_url, queue_name):
        schedule = await q.schedule(worker_tasks.count, k, interval=1)
        await eventually(lambda: _ran(k), timeout=5)
        paused = await q.pause_scheduled_job(schedule.schedule_id)
        assert paused.status is ScheduleStatus.PAUSED
        assert await schedule_messages(q, schedule.schedule_id) == 0  # the server has nothing to fire
        assert (await q.get_schedule(schedule.schedule_id)).status is ScheduleStatus.PAUSED
        await q.resume_scheduled_job(schedule.schedule_id)
        assert await schedule_messages(q, schedule.schedule_id) == 1
        conn = await q.connection()
        resumed_at = (await conn.js.stream_info("naq_jobs")).state.last_seq

        async def fired_after_resume() -> bool:
            # a firing's job id is "<schedule id>-<stream sequence>": one stored after the
            # resume was fired by the schedule message published again
            last = (await q.get_schedule(schedule.schedule_id)).last_job_id or ""
            return int(last.rsplit("-", 1)[1]) > resumed_at if last else False

        await eventually(fired_after_resume, timeout=15)
        await q.cancel_scheduled_job(schedule.schedule_id)


async def _ran(k: str) -> bool:
    return worker_tasks.calls.get(k, 0) > 0


async def test_named_schedule_registered_twice_is_one(nats_url: str, queue_name: str) -> None:
    name = f"report-{key()[:8]}"
    async with Queue(queue_name, nats_url) as first, Queue(queue_name, nats_url) as second:
        await first.schedule(worker_tasks.count, "a", cron="0 0 9 * * *", name=name)
        await second.schedule(worker_tasks.count, "a", cron="0 30 9 * * *", tz="Europe/Paris", name=name)
        mine = [s for s in await first.list_schedules() if s.schedule_id == name]
        assert len(mine) == 1
        assert mine[0].cron == "0 30 9 * * *" and mine[0].tz == "Europe/Paris"
        conn = await first.connection()
        info = await conn.js.stream_info("naq_jobs", subjects_filter=f"naq.sched.{queue_name}.>")
        assert info.state.subjects == {f"naq.sched.{queue_name}.{name}": 1}
        await first.cancel_scheduled_job(name)


async def test_modify_and_run_now(nats_url: str, queue_name: str) -> None:
    k = key()
    async with Queue(queue_name, nats_url) as q, running_worker(nats_url, queue_name):
        schedule = await q.schedule(worker_tasks.count, k, cron="0 0 3 * * *")
        before = time.time()
        changed = await q.modify_scheduled_job(schedule.schedule_id, interval=3600)
        after = time.time()
        assert changed.kind is ScheduleKind.EVERY and changed.interval == 3600
        assert changed.next_run is not None and before + 3599 <= changed.next_run <= after + 3601
        job = await q.run_scheduled_job_now(schedule.schedule_id)
        assert await q.fetch_job_result(job, timeout=10) == 1
        assert (await q.get_schedule(schedule.schedule_id)).firings == 0
        one_off = await q.enqueue_in(3600, worker_tasks.count, k)
        soon = dt.datetime.now(dt.UTC) + dt.timedelta(milliseconds=300)
        await q.modify_scheduled_job(one_off.job_id, next_run=soon)
        assert await q.fetch_job_result(one_off, timeout=10) == 2
        await q.cancel_scheduled_job(schedule.schedule_id)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"interval": 0.5}, "at least 1 second"),
        ({"cron": "61 * * * *"}, "not a valid cron"),
        ({"cron": "* * *"}, "has 3 fields"),
        ({"cron": "* * * * *", "tz": "Mars/Olympus"}, "unknown time zone"),
        ({"interval": 5, "tz": "UTC"}, "tz applies to cron"),
        ({}, "exactly one of cron= or interval="),
        ({"interval": 5, "repeat": 0}, "repeat must be at least 1"),
        ({"interval": 5, "name": "bad name"}, "schedule name"),
        ({"interval": 5, "depends_on": "x"}, "depends_on cannot be combined"),
    ],
)
async def test_bad_schedules_are_refused_at_call_time(
    nats_url: str, queue_name: str, kwargs: dict[str, object], message: str
) -> None:
    async with Queue(queue_name, nats_url) as q:
        with pytest.raises(ValueError, match=message):
            await q.schedule(worker_tasks.count, "x", **kwargs)  # type: ignore[arg-type]


async def test_five_field_cron_is_accepted(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as q:
        schedule = await q.schedule(worker_tasks.count, "x", cron="*/5 * * * *")
        assert schedule.cron == "0 */5 * * * *"
        await q.cancel_scheduled_job(schedule.schedule_id)


async def test_too_old_server_gets_one_clear_error(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as q:
        conn = await q.connection()
        server = conn.nc._current_server
        real = server.server_version
        server.server_version = "2.11.4"  # what an older server reports
        try:
            with pytest.raises(
                ServerVersionError, match=r"need NATS server 2\.12\.0 or newer; the server is 2\.11\.4"
            ):
                await q.enqueue_in(5, worker_tasks.count, "x")
            with pytest.raises(ServerVersionError, match=r"2\.14\.0.*naq server"):
                await q.schedule(worker_tasks.count, "x", interval=5)
        finally:
            server.server_version = real


async def test_job_due_while_the_server_was_down_fires_after_restart(
    fresh_nats_server: EmbeddedServer,
) -> None:
    server = fresh_nats_server
    k = key()
    async with Queue("restart-sched", server.url) as q:
        job = await q.enqueue_in(1.5, worker_tasks.count, k)
        server.stop()
        await asyncio.sleep(2.5)  # it falls due while the server is down
        server.start()  # same port, same store
        async with running_worker(server.url, "restart-sched"):
            assert await q.fetch_job_result(job, timeout=20) == 1


async def test_a_name_moved_to_another_queue_stops_firing_on_the_old_one(
    nats_url: str, queue_name: str
) -> None:
    name = f"moved-{key()[:8]}"
    other = queue_name + "-b"
    async with Queue(queue_name, nats_url) as first, Queue(other, nats_url) as second:
        await first.schedule(worker_tasks.count, "a", interval=3600, name=name)
        await second.schedule(worker_tasks.count, "a", interval=3600, name=name)
        conn = await first.connection()
        info = await conn.js.stream_info("naq_jobs", subjects_filter=f"naq.sched.*.{name}")
        assert info.state.subjects == {f"naq.sched.{other}.{name}": 1}
        await second.cancel_scheduled_job(name)


async def test_a_far_one_off_keeps_its_scheduled_status_past_result_ttl(
    nats_url: str, queue_name: str
) -> None:
    async with Queue(queue_name, nats_url, result_ttl=2) as q:
        job = await q.enqueue_in(3600, worker_tasks.add, 1, 1)
        await asyncio.sleep(2.5)  # longer than result_ttl, far shorter than the delay
        assert await q.job_status(job.job_id) is JobStatus.SCHEDULED
        await q.cancel_scheduled_job(job.job_id)
