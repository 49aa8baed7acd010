"""Per-minute completed/failed counts a worker keeps in memory and publishes in its heartbeat."""

from __future__ import annotations

import json

from naq_core import Queue, list_workers
from naq_core.heartbeat import HISTORY_MINUTES, MinuteCounts, MinuteTotal, WorkerInfo, minute_totals
from naq_core.testing.worker import eventually, running_worker


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_counts_per_queue_and_minute_and_forgets_what_left_the_window() -> None:
    clock = Clock(1_000 * 60 + 5)
    counts = MinuteCounts(minutes=3, clock=clock)
    counts.add("a")
    counts.add("a")
    counts.add("a", failed=True)
    counts.add("b", failed=True)
    clock.now += 60
    counts.add("a")
    assert counts.to_dict() == {"a": [[1000, 2, 1], [1001, 1, 0]], "b": [[1000, 0, 1]]}
    clock.now += 2 * 60  # minute 1003: the window is 1001..1003
    assert counts.to_dict() == {"a": [[1001, 1, 0]]}
    counts.add("b")  # a new minute prunes what is kept, not only what is shown
    assert counts._counts == {"a": {1001: [1, 0]}, "b": {1003: [1, 0]}}


def test_the_history_stays_bounded_however_long_the_worker_runs() -> None:
    clock = Clock(0.0)
    counts = MinuteCounts(clock=clock)
    for _ in range(10 * HISTORY_MINUTES):
        counts.add("q")
        clock.now += 60
    assert len(counts._counts["q"]) == HISTORY_MINUTES


def _info(history: dict[str, list[list[int]]] | None) -> WorkerInfo:
    beat = {
        "worker_id": "w",
        "hostname": "h",
        "pid": 1,
        "queues": ["a"],
        "status": "running",
        "concurrency": 1,
        "current_jobs": [],
        "processed": 0,
        "failed": 0,
        "started_at": 0.0,
        "last_heartbeat": 0.0,
    }
    if history is not None:
        beat["history"] = history
    return WorkerInfo.from_dict(json.loads(json.dumps(beat)))


def test_a_beat_without_history_from_an_older_worker_reads_as_empty() -> None:
    assert _info(None).history == {}


def test_minute_totals_sum_live_workers_fill_empty_minutes_and_filter_queues() -> None:
    one = _info({"a": [[99, 1, 0], [100, 2, 1]], "b": [[100, 5, 5]]})
    two = _info({"a": [[100, 3, 0], [50, 7, 7]]})  # minute 50 is outside the window
    totals = minute_totals([one, two], minutes=3, now=100 * 60 + 30)
    assert totals == [
        MinuteTotal(minute=98),
        MinuteTotal(minute=99, completed=1),
        MinuteTotal(minute=100, completed=10, failed=6),
    ]
    only_a = minute_totals([one, two], queues=["a"], minutes=2, now=100 * 60)
    assert only_a == [MinuteTotal(minute=99, completed=1), MinuteTotal(minute=100, completed=5, failed=1)]


async def test_a_worker_publishes_its_completed_and_failed_counts(nats_url: str, queue_name: str) -> None:
    async with (
        Queue(queue_name, nats_url) as queue,
        running_worker(nats_url, queue_name, tasks=["worker_tasks"], heartbeat_interval=0.5) as w,
    ):
        jobs = [await queue.enqueue("worker_tasks:add", 1, i) for i in range(3)]
        failing = await queue.enqueue("worker_tasks:fail")
        for job in jobs:
            await queue.fetch_job_result(job, timeout=15)

        async def totals() -> list[MinuteTotal]:
            mine = [i for i in await list_workers(nats_url) if i.worker_id == w.worker_id]
            return minute_totals(mine, queues=[queue_name])

        async def counted() -> bool:
            found = await totals()
            return (sum(t.completed for t in found), sum(t.failed for t in found)) == (3, 1)

        await eventually(counted, timeout=15)
        assert failing.job_id
        assert len(await totals()) == HISTORY_MINUTES
