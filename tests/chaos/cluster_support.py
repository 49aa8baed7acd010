"""Tasks and helpers of the cluster chaos cases (tests/chaos/test_cluster.py).

The workers run in the test's process (it is the servers that are killed), so the task
records each run in :data:`RUNS` here: ``job key -> monotonic times it ran``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import defaultdict
from collections.abc import AsyncIterator

import nats
from nats.js import JetStreamContext

from naq_core.errors import JobNotFoundError, NaqError
from naq_core.queue import Queue
from naq_core.testing.cluster import NatsCluster, bucket_leader, consumer_leader, stream_leader

__all__ = [
    "RUNS",
    "AckSampler",
    "leader_of",
    "missing_records",
    "move_leaders_to",
    "record",
]

#: How often a record is read before it counts as lost (a read that fails, not one that
#: finds nothing, is tried again).
READ_TRIES = 10
#: ``key -> [monotonic time of each run]`` (the task appends; tests clear it).
RUNS: defaultdict[str, list[float]] = defaultdict(list)


def record(key: str) -> str:
    """The chaos task: note that ``key`` ran, return it (stored as the job's result)."""
    RUNS[key].append(time.monotonic())
    return key


async def leader_of(js: JetStreamContext, target: str, queue: str) -> str | None:
    """The server leading ``target``: ``jobs`` (stream), ``consumer`` or ``results`` (bucket)."""
    try:
        if target == "jobs":
            return await stream_leader(js, "naq_jobs")
        if target == "consumer":
            return await consumer_leader(js, "naq_jobs", f"naq-worker-{queue}")
        return await bucket_leader(js, "naq_results")
    except (nats.errors.Error, TimeoutError):
        return None  # between leaders


async def move_leaders_to(cluster: NatsCluster, node: str, queue: str, *, attempts: int = 40) -> None:
    """Step the jobs stream's, the worker consumer's and the results bucket's leaders down
    until all three are on ``node`` (stepdown with a preferred placement), bounded."""
    nc = await nats.connect(cluster.url_list)
    try:
        js = nc.jetstream()
        subjects = {
            "jobs": "$JS.API.STREAM.LEADER.STEPDOWN.naq_jobs",
            "consumer": f"$JS.API.CONSUMER.LEADER.STEPDOWN.naq_jobs.naq-worker-{queue}",
            "results": "$JS.API.STREAM.LEADER.STEPDOWN.KV_naq_results",
        }
        body = (f'{{"placement": {{"preferred": "{node}"}}}}').encode()
        for _ in range(attempts):
            placed = [t for t in subjects if await leader_of(js, t, queue) == node]
            if len(placed) == len(subjects):
                return
            for target in subjects.keys() - set(placed):
                try:
                    await nc.request(subjects[target], body, timeout=2.0)
                except (nats.errors.Error, TimeoutError):
                    pass
            await asyncio.sleep(0.5)
        raise AssertionError(f"could not move every leader to {node}")
    finally:
        await nc.close()


async def missing_records(queue: Queue, jobs: dict[str, str], *, chunk: int = 200) -> list[str]:
    """The keys (of ``jobs``: job id -> key) whose job record is not readable as completed
    with the key as its result. A read that fails (the client reconnecting from the killed
    server, a timeout) is tried again, up to :data:`READ_TRIES` times; unknown stays unknown."""
    missing: list[str] = []

    async def check(job_id: str, key: str) -> None:
        for _ in range(READ_TRIES):
            try:
                rec = await queue.job_record(f"{queue.name}.{job_id}")
            except JobNotFoundError:
                break
            except (nats.errors.Error, TimeoutError, NaqError):
                await asyncio.sleep(0.5)
                continue
            if rec.status.value == "completed" and rec.result == key:
                return
            break
        missing.append(key)

    items = list(jobs.items())
    for start in range(0, len(items), chunk):
        await asyncio.gather(*(check(j, k) for j, k in items[start : start + chunk]))
    return missing


class AckSampler:
    """Samples the jobs left on a queue (waiting or unacked) every ``every`` seconds while
    :meth:`sampling`: the work is moving while that number goes down."""

    def __init__(self, queue: Queue, every: float = 0.05) -> None:
        self._queue = queue
        self._every = every
        self.samples: list[tuple[float, int]] = []
        self.at_kill = -1

    @property
    def last(self) -> int:
        return self.samples[-1][1] if self.samples else -1

    async def sample(self) -> None:
        try:
            left = await self._queue.count()
        except (nats.errors.Error, TimeoutError, NaqError):
            return  # the jobs stream is between leaders
        self.samples.append((time.monotonic(), left))
        if self.at_kill < 0:
            self.at_kill = left

    @contextlib.asynccontextmanager
    async def sampling(self) -> AsyncIterator[None]:
        async def loop() -> None:
            while True:
                await self.sample()
                await asyncio.sleep(self._every)

        task = asyncio.create_task(loop())
        try:
            yield
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def first_ack(self, since: float) -> float | None:
        """Seconds from ``since`` to the first sample with fewer jobs left than before it."""
        previous = None
        for at, left in self.samples:
            if at >= since and previous is not None and left < previous:
                return at - since
            previous = left
        return None

    def longest_stall(self, since: float) -> float:
        """The longest time after ``since`` in which no job left the queue (acked): how long
        the fault stopped the work, kill to first ack included."""
        points = [since]
        previous = None
        for at, left in self.samples:
            if at < since:
                previous = left
                continue
            if previous is not None and left < previous:
                points.append(at)
            previous = left
        return max((b - a for a, b in itertools.pairwise(points)), default=0.0)
