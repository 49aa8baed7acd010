"""depends_on: run after every dependency succeeded; never run if one failed."""

from __future__ import annotations

import json
import uuid

import pytest
import worker_tasks
from support import running_worker

from naq_core import DependencyFailedError, JobStatus, Queue
from naq_core.jetstream import DEPS_BUCKET


async def test_dependent_runs_after_its_dependency(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as q, running_worker(nats_url, queue_name):
        first = await q.enqueue(worker_tasks.sleep_for, 0.3)
        second = await q.enqueue(worker_tasks.add, 1, 2, depends_on=first)
        assert await q.job_status(second.job_id) is JobStatus.WAITING
        assert await q.fetch_job_result(second, timeout=15) == 3
        done_first = await q.job_record(first.job_id)
        done_second = await q.job_record(second.job_id)
        assert done_second.started_at is not None and done_first.finished_at is not None
        assert done_second.started_at >= done_first.finished_at


async def test_waits_for_every_dependency(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as q, running_worker(nats_url, queue_name):
        a = await q.enqueue(worker_tasks.sleep_for, 0.2)
        b = await q.enqueue(worker_tasks.sleep_for, 0.5)
        c = await q.enqueue(worker_tasks.add, 2, 2, depends_on=[a, b.job_id])
        assert await q.fetch_job_result(c, timeout=15) == 4
        assert (await q.job_record(c.job_id)).started_at >= (await q.job_record(b.job_id)).finished_at  # type: ignore[operator]


async def test_dependency_already_done_releases_at_once(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as q, running_worker(nats_url, queue_name):
        a = await q.enqueue(worker_tasks.add, 1, 1)
        await q.fetch_job_result(a, timeout=10)
        b = await q.enqueue(worker_tasks.add, 2, 2, depends_on=a)
        assert await q.fetch_job_result(b, timeout=10) == 4


async def test_failed_dependency_fails_dependents_and_their_dependents(
    nats_url: str, queue_name: str
) -> None:
    key = uuid.uuid4().hex
    async with Queue(queue_name, nats_url) as q, running_worker(nats_url, queue_name):
        bad = await q.enqueue(worker_tasks.fail, "no")
        child = await q.enqueue(worker_tasks.count, key, depends_on=bad)
        grandchild = await q.enqueue(worker_tasks.count, key, depends_on=child)
        with pytest.raises(DependencyFailedError):
            await q.fetch_job_result(child, timeout=15)
        with pytest.raises(DependencyFailedError):
            await q.fetch_job_result(grandchild, timeout=15)
        assert await q.job_status(child.job_id) is JobStatus.DEPENDENCY_FAILED
    assert key not in worker_tasks.calls  # neither ever ran


async def test_dependents_resolve_when_a_worker_starts(nats_url: str, queue_name: str) -> None:
    """Markers left behind (a worker died between finishing a job and releasing its
    dependents) are resolved by the next worker's start-up reconciliation."""
    async with Queue(queue_name, nats_url) as q:
        async with running_worker(nats_url, queue_name):
            a = await q.enqueue(worker_tasks.add, 1, 1)
            await q.fetch_job_result(a, timeout=10)
        conn = await q.connection()
        b = q.prepare(worker_tasks.add, 5, 5, depends_on=a)
        kv = await conn.bucket(DEPS_BUCKET)
        dep = f"{queue_name}.{a.job_id}"  # a job is <queue>.<job id>
        held = {"queue": queue_name, "deps": [dep], "headers": {"Nats-Msg-Id": f"{queue_name}/{b.job_id}"}}
        await kv.put(
            f"wait.{queue_name}.{b.job_id}",
            json.dumps(held).encode() + b"\n" + conn.serializer.dumps(b.to_envelope()),
        )
        await kv.put(f"on.{dep}.{queue_name}.{b.job_id}", b"")
        assert await q.job_status(b.job_id) is JobStatus.WAITING
        async with running_worker(nats_url, queue_name):
            assert await q.fetch_job_result(b, timeout=15) == 10


async def test_unknown_dependency_is_refused_at_enqueue(nats_url: str, queue_name: str) -> None:
    from naq_core import JobNotFoundError

    async with Queue(queue_name, nats_url) as q:
        with pytest.raises(JobNotFoundError, match="unknown job id"):
            await q.enqueue(worker_tasks.add, 1, 1, depends_on="f" * 32)


async def test_dependency_still_in_the_queue_is_accepted(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as q:
        first = await q.enqueue(worker_tasks.add, 1, 1)  # no worker yet: pending in the stream
        second = await q.enqueue(worker_tasks.add, 2, 2, depends_on=first)
        assert await q.job_status(second.job_id) is JobStatus.WAITING
        async with running_worker(nats_url, queue_name):
            assert await q.fetch_job_result(second, timeout=15) == 4


async def test_a_stopped_worker_leaves_no_dependency_watch_behind(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as q:
        conn = await q.connection()
        await conn.bucket(DEPS_BUCKET)
        stream = f"KV_{DEPS_BUCKET}"
        before = (await conn.js.stream_info(stream)).state.consumer_count
        for _ in range(3):
            async with running_worker(nats_url, queue_name) as worker:
                assert worker.status == "running"
                assert (await conn.js.stream_info(stream)).state.consumer_count == before + 1
        assert (await conn.js.stream_info(stream)).state.consumer_count == before
