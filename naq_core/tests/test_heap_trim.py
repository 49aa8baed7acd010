"""A worker gives the memory of a burst back once idle (glibc's malloc_trim)."""

from __future__ import annotations

import platform
import sys

import pytest
import worker_tasks
from support import running_worker, wait_until

from naq_core import Queue
from naq_core._heap import HeapTrimmer, malloc_trim

glibc = pytest.mark.skipif(malloc_trim is None, reason="no glibc malloc_trim here")


@glibc
def test_trims_once_after_work_then_not_until_more_work() -> None:
    trimmer = HeapTrimmer(every=0.0)
    assert trimmer.tick(idle=True, work=0) is False  # nothing was done: nothing to give back
    assert trimmer.tick(idle=False, work=5) is False  # busy: never while jobs are held
    assert trimmer.tick(idle=True, work=5) is True
    assert trimmer.tick(idle=True, work=5) is False  # idle since: once is enough
    assert trimmer.tick(idle=True, work=6) is True and trimmer.trims == 2


@glibc
def test_at_most_once_per_interval() -> None:
    trimmer = HeapTrimmer(every=3600.0)
    assert trimmer.tick(idle=True, work=1) is True
    assert trimmer.tick(idle=True, work=2) is False and trimmer.trims == 1


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc", reason="not glibc"
)
def test_found_with_glibc() -> None:
    assert malloc_trim is not None


@glibc
async def test_a_worker_trims_its_heap_when_its_jobs_are_done(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as q, running_worker(nats_url, queue_name) as worker:
        jobs = await q.enqueue_many([(worker_tasks.add, (i, 1)) for i in range(200)])
        assert await q.fetch_job_result(jobs[-1], timeout=30) == 200
        runner = worker._runner
        assert runner is not None
        await wait_until(lambda: runner.heap.trims >= 1, timeout=10)
