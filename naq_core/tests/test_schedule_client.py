"""Scheduled jobs through NaqClient and the module helpers (async and *_sync), on a real server."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from collections.abc import Iterator

import pytest
import worker_tasks
from support import running_worker

import naq_core
from naq_core import (
    JobNotFoundError,
    JobStatus,
    NaqClient,
    Schedule,
    ScheduleKind,
    ScheduleStatus,
    helpers,
    shortcuts,
)
from naq_core.server import EmbeddedServer


@pytest.fixture
def client(nats_url: str) -> Iterator[NaqClient]:
    with NaqClient(nats_url) as client:
        yield client


@pytest.fixture(autouse=True)
def _sync_clients() -> Iterator[None]:
    yield
    helpers.close_sync_connections()


def key() -> str:
    return uuid.uuid4().hex[:12]


def test_first_call_on_a_fresh_server_can_be_a_schedule(fresh_nats_server: EmbeddedServer) -> None:
    with NaqClient(fresh_nats_server.url) as client:
        job = client.enqueue_in(3600, worker_tasks.count, "x")
        assert client.job_status(job) is JobStatus.SCHEDULED


def test_names_are_exported_from_the_package_and_helpers() -> None:
    for name in shortcuts.__all__:
        assert getattr(naq_core, name) is getattr(shortcuts, name), name
        assert getattr(helpers, name) is getattr(shortcuts, name), name
        assert name in naq_core.__all__ and name in helpers.__all__, name
    assert {"Schedule", "ScheduleKind", "ScheduleStatus"} <= set(naq_core.__all__)


# --- NaqClient --------------------------------------------------------------------------------


async def test_sync_client_schedules_a_one_off_and_gets_its_result(
    client: NaqClient, nats_url: str, queue_name: str
) -> None:
    async with running_worker(nats_url, queue_name):
        job = await asyncio.to_thread(client.enqueue_in, 0.5, worker_tasks.add, 2, 3, queue_name=queue_name)
        assert job.queue_name == queue_name
        assert await asyncio.to_thread(client.job_status, job) is JobStatus.SCHEDULED
        assert await asyncio.to_thread(client.fetch_job_result, job, 10) == 5

        naive = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(milliseconds=300)
        at = await asyncio.to_thread(
            client.enqueue_at, naive, worker_tasks.multiply, 6, 7, queue_name=queue_name, timeout=5
        )
        assert await asyncio.to_thread(client.fetch_job_result, at.job_id, 10) == 42
        record = await asyncio.to_thread(client.job_record, at.job_id)
        assert record.started_at is not None
        assert record.started_at >= naive.replace(tzinfo=dt.UTC).timestamp() - 0.05  # naive = UTC


def test_sync_client_lists_modifies_pauses_resumes_and_cancels(client: NaqClient, queue_name: str) -> None:
    name = f"nightly-{key()}"
    other_queue = f"{queue_name}-b"
    created = client.schedule(worker_tasks.count, name, interval=3600, name=name, queue_name=queue_name)
    assert created.schedule_id == name and created.kind is ScheduleKind.EVERY
    elsewhere = client.enqueue_in(3600, worker_tasks.count, "x", queue_name=other_queue)

    mine = client.list_schedules(queue_name)
    assert [s.schedule_id for s in mine] == [name]
    everywhere = {s.schedule_id for s in client.list_schedules()}
    assert {name, elsewhere.job_id} <= everywhere  # every queue by default

    changed = client.modify_scheduled_job(name, cron="30 9 * * MON-FRI", tz="Europe/Paris", repeat=5)
    assert (changed.kind, changed.cron, changed.tz, changed.repeat) == (
        ScheduleKind.CRON,
        "0 30 9 * * MON-FRI",
        "Europe/Paris",
        5,
    )
    assert client.pause_scheduled_job(name).status is ScheduleStatus.PAUSED
    assert client.get_schedule(name).status is ScheduleStatus.PAUSED
    assert client.resume_scheduled_job(name).status is ScheduleStatus.ACTIVE

    cancelled = client.cancel_scheduled_job(name)
    assert isinstance(cancelled, Schedule) and cancelled.schedule_id == name
    with pytest.raises(JobNotFoundError, match=f"no schedule '{name}'"):
        client.get_schedule(name)
    assert name not in {s.schedule_id for s in client.list_schedules()}
    client.cancel_scheduled_job(elsewhere.job_id)
    assert client.job_status(elsewhere) is JobStatus.CANCELLED


async def test_sync_client_runs_a_schedule_now(client: NaqClient, nats_url: str, queue_name: str) -> None:
    k = key()
    schedule = await asyncio.to_thread(
        client.schedule, worker_tasks.count, k, cron="0 0 3 * * *", queue_name=queue_name
    )
    async with running_worker(nats_url, queue_name):
        job = await asyncio.to_thread(client.run_scheduled_job_now, schedule.schedule_id)
        assert job.job_id != schedule.schedule_id
        assert await asyncio.to_thread(client.fetch_job_result, job, 10) == 1
    assert (await asyncio.to_thread(client.get_schedule, schedule.schedule_id)).firings == 0
    await asyncio.to_thread(client.cancel_scheduled_job, schedule.schedule_id)


def test_bad_schedule_is_refused_before_anything_is_sent(client: NaqClient, queue_name: str) -> None:
    with pytest.raises(ValueError, match="at least 1 second"):
        client.schedule(worker_tasks.count, "x", interval=0.2, queue_name=queue_name)
    with pytest.raises(ValueError, match="not a valid cron"):
        client.schedule(worker_tasks.count, "x", cron="99 * * * *", queue_name=queue_name)
    assert client.list_schedules(queue_name) == []


# --- module helpers ---------------------------------------------------------------------------


async def test_async_helpers_round_trip(nats_url: str, queue_name: str) -> None:
    k = key()
    url = nats_url
    async with running_worker(nats_url, queue_name):
        job = await naq_core.enqueue_in(0.3, worker_tasks.add, 1, 2, queue_name=queue_name, nats_url=url)
        assert await naq_core.fetch_job_result(job, timeout=10, nats_url=url) == 3
        when = dt.datetime.now(dt.UTC) + dt.timedelta(milliseconds=300)
        at = await naq_core.enqueue_at(when, worker_tasks.add, 2, 2, queue_name=queue_name, nats_url=url)
        assert await naq_core.fetch_job_result(at, timeout=10, nats_url=url) == 4

        schedule = await naq_core.schedule(
            worker_tasks.count, k, cron="0 0 4 * * *", name=f"h-{k}", queue_name=queue_name, nats_url=url
        )
        assert [s.schedule_id for s in await naq_core.list_schedules(queue_name, nats_url=url)] == [f"h-{k}"]
        assert f"h-{k}" in {s.schedule_id for s in await naq_core.list_schedules(nats_url=url)}
        paused = await naq_core.pause_scheduled_job(schedule.schedule_id, queue_name=queue_name, nats_url=url)
        assert paused.status is ScheduleStatus.PAUSED
        resumed = await naq_core.resume_scheduled_job(schedule.schedule_id, queue_name, nats_url=url)
        assert resumed.status is ScheduleStatus.ACTIVE
        modified = await naq_core.modify_scheduled_job(schedule.schedule_id, interval=120, nats_url=url)
        assert modified.kind is ScheduleKind.EVERY and modified.interval == 120
        now_job = await naq_core.run_scheduled_job_now(schedule.schedule_id, nats_url=url)
        assert await naq_core.fetch_job_result(now_job, timeout=10, nats_url=url) == 1
        assert (await naq_core.get_schedule(schedule.schedule_id, nats_url=url)).firings == 0
        await naq_core.cancel_scheduled_job(schedule.schedule_id, queue_name=queue_name, nats_url=url)
        with pytest.raises(JobNotFoundError):
            await naq_core.get_schedule(schedule.schedule_id, nats_url=url)


async def test_async_helpers_take_the_original_modify_keyword(nats_url: str, queue_name: str) -> None:
    job = await naq_core.enqueue_in(3600, worker_tasks.count, "x", queue_name=queue_name, nats_url=nats_url)
    target = time.time() + 7200
    moved = await naq_core.modify_scheduled_job(job.job_id, nats_url=nats_url, scheduled_timestamp_utc=target)
    assert moved.at == pytest.approx(target, abs=0.001)
    with pytest.raises(ValueError, match="not both"):
        await naq_core.modify_scheduled_job(
            job.job_id,
            nats_url=nats_url,
            next_run=dt.datetime.now(dt.UTC),
            scheduled_timestamp_utc=target,
        )
    await naq_core.cancel_scheduled_job(job.job_id, nats_url=nats_url)


async def test_sync_helpers_round_trip(nats_url: str, queue_name: str) -> None:
    k = key()

    def scenario() -> None:
        one_off = naq_core.enqueue_in_sync(
            0.3, worker_tasks.add, 5, 5, queue_name=queue_name, nats_url=nats_url
        )
        assert naq_core.fetch_job_result_sync(one_off, timeout=10, nats_url=nats_url) == 10
        when = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
        later = naq_core.enqueue_at_sync(
            when, worker_tasks.count, k, queue_name=queue_name, nats_url=nats_url
        )
        recurring = naq_core.schedule_sync(
            worker_tasks.count,
            k,
            interval=dt.timedelta(minutes=5),
            repeat=3,
            queue_name=queue_name,
            nats_url=nats_url,
        )
        listed = naq_core.list_schedules_sync(queue_name, nats_url=nats_url)
        assert {s.schedule_id for s in listed} == {later.job_id, recurring.schedule_id}
        assert listed[0].schedule_id == recurring.schedule_id  # soonest next run first
        assert naq_core.get_schedule_sync(later.job_id, nats_url=nats_url).kind is ScheduleKind.AT
        sid = recurring.schedule_id
        assert naq_core.pause_scheduled_job_sync(sid, nats_url=nats_url).status is ScheduleStatus.PAUSED
        assert naq_core.resume_scheduled_job_sync(sid, nats_url=nats_url).status is ScheduleStatus.ACTIVE
        assert naq_core.modify_scheduled_job_sync(sid, nats_url=nats_url, repeat=10).repeat == 10
        assert (
            naq_core.fetch_job_result_sync(
                naq_core.run_scheduled_job_now_sync(sid, nats_url=nats_url), timeout=10, nats_url=nats_url
            )
            == 1
        )
        for schedule_id in (later.job_id, sid):
            naq_core.cancel_scheduled_job_sync(schedule_id, queue_name=queue_name, nats_url=nats_url)
        assert naq_core.list_schedules_sync(queue_name, nats_url=nats_url) == []
        assert naq_core.job_status_sync(later, nats_url=nats_url) is JobStatus.CANCELLED

    async with running_worker(nats_url, queue_name):
        await asyncio.to_thread(scenario)
