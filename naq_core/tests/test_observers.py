"""Observer hooks cannot break the host: a raising implementation is logged with its plugin's
name, the other implementations still run, the job carries on and ``enqueue`` returns.

Real nats-server, real Worker. Each test registers a raising plugin (sync or async) next to a
recording one, and checks the job's recorded state and the ``plugin_hook_failed`` event.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

import naq_json_serializer
from naq_core import Job, JobStatus, Outcome, Queue, Worker, hookimpl, task
from naq_core.overview import queue_stats
from naq_core.testing import only_plugins
from naq_core.testing.worker import eventually, running_worker, wait_until


@task
async def observed_double(x: int) -> int:
    return x * 2


class Boom(Exception):
    pass


class RaisesSync:
    """Every observer hook raises, from plain functions."""

    @hookimpl
    def naq_job_enqueued(self, job: Job) -> None:
        raise Boom("enqueued")

    @hookimpl
    def naq_job_started(self, job: Job) -> None:
        raise Boom("started")

    @hookimpl
    def naq_job_finished(self, job: Job) -> None:
        raise Boom("finished")

    @hookimpl
    def naq_worker_started(self, worker: Worker) -> None:
        raise Boom("worker started")

    @hookimpl
    def naq_worker_stopped(self, worker: Worker) -> None:
        raise Boom("worker stopped")


class RaisesAsync:
    """Every observer hook raises, from coroutine functions (awaited, then isolated)."""

    @hookimpl
    async def naq_job_enqueued(self, job: Job) -> None:
        await asyncio.sleep(0)
        raise Boom("enqueued")

    @hookimpl
    async def naq_job_started(self, job: Job) -> None:
        await asyncio.sleep(0)
        raise Boom("started")

    @hookimpl
    async def naq_job_finished(self, job: Job) -> None:
        await asyncio.sleep(0)
        raise Boom("finished")

    @hookimpl
    async def naq_worker_started(self, worker: Worker) -> None:
        await asyncio.sleep(0)
        raise Boom("worker started")

    @hookimpl
    async def naq_worker_stopped(self, worker: Worker) -> None:
        await asyncio.sleep(0)
        raise Boom("worker stopped")


class Recorder:
    """Registered before the raising plugin, so pluggy calls it after: it must still run."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    @hookimpl
    def naq_job_enqueued(self, job: Job) -> None:
        self.calls.append(("enqueued", job.job_id))

    @hookimpl
    def naq_job_started(self, job: Job) -> None:
        self.calls.append(("started", job.job_id))

    @hookimpl
    def naq_job_finished(self, job: Job, outcome: Outcome) -> None:
        self.calls.append(("finished", job.job_id, outcome.status.value))

    @hookimpl
    def naq_worker_started(self, worker: Worker) -> None:
        self.calls.append(("worker_started", worker.worker_id))

    @hookimpl
    def naq_worker_stopped(self, worker: Worker) -> None:
        self.calls.append(("worker_stopped", worker.worker_id))


@pytest.fixture(params=[RaisesSync, RaisesAsync], ids=["sync", "async"])
def plugins(request: pytest.FixtureRequest) -> Iterator[Recorder]:
    recorder = Recorder()
    with only_plugins(naq_json_serializer) as pm:
        pm.register(recorder, name="recorder")
        pm.register(request.param(), name="raising-plugin")
        yield recorder


def _failures(logs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {entry["hook"]: entry for entry in logs if entry["event"] == "plugin_hook_failed"}


async def test_raising_observers_neither_wedge_a_job_nor_fail_enqueue(
    nats_url: str, queue_name: str, plugins: Recorder
) -> None:
    with structlog.testing.capture_logs() as logs:
        async with running_worker(nats_url, queue_name) as worker:
            async with Queue(queue_name, nats_url) as queue:
                job = await queue.enqueue(observed_double, 21)  # returns despite naq_job_enqueued
                assert isinstance(job, Job)
                assert await queue.fetch_job_result(job, timeout=10) == 42
                record = await queue.job_record(job.job_id)
                assert record.status == JobStatus.COMPLETED
                await wait_until(lambda: ("finished", job.job_id, "completed") in plugins.calls)
                # Acked, not left in flight: the work-queue stream holds nothing for the queue.
                conn = await queue.connection()

                async def drained() -> bool:
                    (stats,) = await queue_stats(conn, [queue_name])
                    return stats.jobs == 0 and stats.in_flight == 0 and stats.pending == 0

                await eventually(drained)
        assert worker.status == "stopped"

    failures = _failures(logs)
    assert set(failures) == {
        "naq_job_enqueued",
        "naq_job_started",
        "naq_job_finished",
        "naq_worker_started",
        "naq_worker_stopped",
    }
    for hook in ("naq_job_enqueued", "naq_job_started", "naq_job_finished"):
        assert failures[hook]["plugin"] == "raising-plugin"
        assert failures[hook]["job_id"] == job.job_id
        assert failures[hook]["error"].startswith("Boom: ")
        assert failures[hook]["log_level"] == "error"
    assert failures["naq_worker_started"]["worker_id"] == worker.worker_id
    assert failures["naq_worker_stopped"]["plugin"] == "raising-plugin"
    kinds = [call[0] for call in plugins.calls]
    assert kinds[0] == "worker_started" and kinds[-1] == "worker_stopped"
    assert ("enqueued", job.job_id) in plugins.calls
    assert ("started", job.job_id) in plugins.calls


class RaisesOnStart:
    @hookimpl
    def naq_job_started(self, job: Job, worker_id: str) -> None:
        raise Boom(f"started on {worker_id}")


async def test_a_raising_job_started_alone_does_not_leave_the_job_running(
    nats_url: str, queue_name: str
) -> None:
    """The issue's case: the message was neither acked nor NAKed and the job 'running' for ever."""
    with only_plugins(naq_json_serializer) as pm, structlog.testing.capture_logs() as logs:
        pm.register(RaisesOnStart(), name="start-breaker")
        async with running_worker(nats_url, queue_name), Queue(queue_name, nats_url) as queue:
            job = await queue.enqueue(observed_double, 4)
            assert await queue.fetch_job_result(job, timeout=10) == 8
            assert (await queue.job_record(job.job_id)).status == JobStatus.COMPLETED
    (failure,) = _failures(logs).values()
    assert failure["plugin"] == "start-breaker"
    assert (failure["hook"], failure["job_id"]) == ("naq_job_started", job.job_id)
