"""A worker's run leaves nothing behind: a start failing at any step, or a run cancelled
from outside, stops every task, subscription, server-side watch and signal handler it
made, NAKs what it held, and closes its connection."""

from __future__ import annotations

import asyncio
import functools
import signal
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import worker_tasks
from support import running_worker, wait_until

from naq_core import JobStatus, Queue, Worker, hookimpl
from naq_core._consumer import PullConsumer
from naq_core._jetstream.natspy import subscriptions
from naq_core.config import load_config
from naq_core.heartbeat import list_workers
from naq_core.jetstream import DEPS_BUCKET, Connection, connect
from naq_core.plugins import get_hooks

_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StartFailed(Exception):
    """Raised by a step of the start that the test made fail."""


class Leftovers:
    """What the worker's connection still had open when the worker closed it, and the
    state to compare with before the run."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.subjects_at_close: dict[int, list[str]] = {}
        self.tasks_before = set(asyncio.all_tasks())
        self.handlers_before = {sig: signal.getsignal(sig) for sig in _SIGNALS}
        close = Connection.close

        async def recording_close(conn: Connection) -> None:
            if not conn.nc.is_closed:
                self.subjects_at_close[id(conn)] = [
                    sub.subject for sub in subscriptions(conn.nc) if not _is_request_mux(sub.subject)
                ]
            await close(conn)

        monkeypatch.setattr(Connection, "close", recording_close)

    def new_tasks(self) -> set[asyncio.Task[Any]]:
        return {t for t in asyncio.all_tasks() if t not in self.tasks_before and not t.done()}

    async def check(self, worker: Worker) -> None:
        conn = worker._conn
        assert conn is not None, "the worker never connected"
        assert conn.nc.is_closed
        assert self.subjects_at_close.get(id(conn)) == [], self.subjects_at_close.get(id(conn))
        # Tasks end within a few loop turns of being cancelled; a forgotten one never does.
        try:
            await wait_until(lambda: not self.new_tasks(), timeout=5)
        except TimeoutError:
            names = sorted(f"{t.get_name()}:{t.get_coro()}" for t in self.new_tasks())
            raise AssertionError(f"tasks left running: {names}") from None
        assert {sig: signal.getsignal(sig) for sig in _SIGNALS} == self.handlers_before


def _is_request_mux(subject: str) -> bool:
    """nats-py's own wildcard inbox for request replies (closed with the connection)."""
    return subject.startswith("_INBOX.") and subject.endswith(".*")


async def _deps_consumers(nats_url: str) -> set[str]:
    conn = await connect(load_config(overrides={"nats_url": nats_url}))
    try:
        await conn.bucket(DEPS_BUCKET)
        return {info.name for info in await conn.js.consumers_info(f"KV_{DEPS_BUCKET}")}
    finally:
        await conn.close()


def _then_fail(original: Callable[..., Any]) -> Callable[..., Any]:
    """``original``, run for real (so its half-started state exists), then a failure."""
    if asyncio.iscoroutinefunction(original):

        @functools.wraps(original)
        async def failing_async(*args: Any, **kwargs: Any) -> Any:
            await original(*args, **kwargs)
            raise StartFailed(original.__qualname__)

        return failing_async

    @functools.wraps(original)
    def failing(*args: Any, **kwargs: Any) -> Any:
        original(*args, **kwargs)
        raise StartFailed(original.__qualname__)

    return failing


#: Each step of the start, in order: (module, class, method).
STEPS = [
    ("naq_core.worker", "Worker", "_install_signals"),
    ("naq_core.jetstream", "Connection", "ensure_stream"),
    ("naq_core._deps", "DependencyTracker", "start"),
    ("naq_core._advisories", "MaxDeliveryMover", "start"),
    ("naq_core.worker", "Worker", "_subscribe_cancels"),
    ("naq_core.jetstream", "Connection", "ensure_consumer"),
    ("naq_core.heartbeat", "Heartbeat", "start"),
    ("naq_core._consumer", "PullConsumer", "start"),
]


@pytest.mark.parametrize(("module", "cls", "method"), STEPS, ids=[f"{c}.{m}" for _, c, m in STEPS])
async def test_a_start_failing_at_any_step_leaves_nothing_behind(
    nats_url: str,
    queue_name: str,
    monkeypatch: pytest.MonkeyPatch,
    module: str,
    cls: str,
    method: str,
) -> None:
    target = getattr(__import__(module, fromlist=[cls]), cls)
    watches_before = await _deps_consumers(nats_url)
    probe = Leftovers(monkeypatch)
    monkeypatch.setattr(target, method, _then_fail(getattr(target, method)))
    worker = Worker(queue_name, nats_url, tasks=["worker_tasks"], install_signal_handlers=True)

    with pytest.raises(StartFailed):
        await asyncio.wait_for(worker.run(), timeout=30)

    await probe.check(worker)
    monkeypatch.undo()  # the checks below connect too
    assert await _deps_consumers(nats_url) <= watches_before, "the dependency watch's consumer was left"
    async with Queue(queue_name, nats_url) as q:
        conn = await q.connection()
        assert worker.worker_id not in {w.worker_id for w in await list_workers(conn)}
    assert worker.status == "stopped"


async def test_cancelling_run_from_outside_leaves_nothing_behind(
    nats_url: str, queue_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = uuid.uuid4().hex
    watches_before = await _deps_consumers(nats_url)
    worker = Worker(queue_name, nats_url, tasks=["worker_tasks"], install_signal_handlers=True)
    async with Queue(queue_name, nats_url) as q:
        job = await q.enqueue(worker_tasks.wait_for_gate, key)
        probe = Leftovers(monkeypatch)  # the queue's connection stays open: not the worker's
        running = asyncio.create_task(worker.run())
        try:
            await wait_until(lambda: job.job_id in worker.running_jobs or running.done(), timeout=15)
            assert job.job_id in worker.running_jobs, running
            assert {sig: signal.getsignal(sig) for sig in _SIGNALS} != probe.handlers_before
        finally:
            running.cancel()
            with pytest.raises(asyncio.CancelledError):
                await asyncio.wait_for(running, timeout=30)

        await probe.check(worker)
        assert await _deps_consumers(nats_url) <= watches_before, "the dependency watch's consumer was left"
        conn = await q.connection()
        assert await q.job_status(job.job_id) is JobStatus.PENDING
        assert worker.worker_id not in {w.worker_id for w in await list_workers(conn)}
        # It was NAKed: another worker gets it well before ack_wait (30 s) runs out.
        worker_tasks.gate(key).set()
        async with running_worker(nats_url, queue_name, tasks=["worker_tasks"]) as second:
            assert await q.fetch_job_result(job, timeout=10) == key
            record = await q.job_record(job.job_id)
            assert (record.worker_id, record.attempt) == (second.worker_id, 2)


async def test_a_start_failing_after_worker_started_still_calls_worker_stopped(
    nats_url: str, queue_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plugin that set something up in ``naq_worker_started`` gets to tear it down."""
    calls: list[tuple[str, str]] = []

    class Recorder:
        @hookimpl
        def naq_worker_started(self, worker: Worker) -> None:
            calls.append(("started", worker.worker_id))

        @hookimpl
        def naq_worker_stopped(self, worker: Worker) -> None:
            calls.append(("stopped", worker.worker_id))

    get_hooks().pm.register(Recorder())
    monkeypatch.setattr(PullConsumer, "start", _then_fail(PullConsumer.start))
    worker = Worker(queue_name, nats_url, tasks=["worker_tasks"], install_signal_handlers=False)
    with pytest.raises(StartFailed):
        await asyncio.wait_for(worker.run(), timeout=30)
    assert calls == [("started", worker.worker_id), ("stopped", worker.worker_id)]
