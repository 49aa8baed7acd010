"""Case 7, the soak: 1,000,000 no-op jobs through one ``naq worker`` (default settings), and
its memory: the RSS after all of them within 20 MB of the RSS after the first 10,000.

``nox -s chaos`` only (``NAQ_CHAOS_SCALE=full``); ``NAQ_CHAOS_SOAK_JOBS`` sets another N
(read at import; at least 20,000).
"""

from __future__ import annotations

import os
import sys
import time

import pytest
from chaos_support import SCALE, Chaos, Outcome, report

N = int(os.environ.get("NAQ_CHAOS_SOAK_JOBS") or 1_000_000)
BATCH = 10_000
BACKLOG = 100_000  # jobs enqueued ahead of the worker at most (the stream stays small)

pytestmark = [
    pytest.mark.skipif(SCALE != "full", reason="the soak runs in `nox -s chaos` only"),
    pytest.mark.skipif(sys.platform != "linux", reason="reads the worker's RSS from /proc"),
    pytest.mark.timeout(7200),
]


def _tokens(start: int, n: int) -> list[str]:
    return [f"{i:032d}" for i in range(start, start + n)]


def _rss_mb(pid: int) -> float:
    """Resident set size of ``pid`` in MB (``VmRSS`` of ``/proc/<pid>/status``)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


async def test_soak_one_worker(chaos: Chaos) -> None:
    assert N >= 2 * BATCH
    worker = chaos.start_worker()
    idle = _rss_mb(worker.pid)
    started = time.monotonic()
    await chaos.enqueue("noop", _tokens(0, BATCH))
    await chaos.wait_for(lambda: chaos.recording.lines() >= BATCH, 300, "the first 10,000 jobs ran")
    rss_10k = _rss_mb(worker.pid)
    enqueued = BATCH
    while enqueued < N:
        done = chaos.recording.lines()
        if enqueued - done < BACKLOG:
            await chaos.enqueue("noop", _tokens(enqueued, BATCH))
            enqueued += BATCH
        else:
            await chaos.wait_for(lambda: chaos.recording.lines() > done, 120, "the worker makes progress")
    await chaos.wait_for(lambda: chaos.recording.lines() >= N, 3600, f"{N} jobs ran")
    elapsed = time.monotonic() - started
    rss_end = _rss_mb(worker.pid)

    counts: dict[int, int] = {}
    with open(chaos.recording.path) as lines:
        for line in lines:
            index = int(line.split()[1])
            counts[index] = counts.get(index, 0) + 1
    lost = sum(1 for i in range(N) if i not in counts)
    duplicates = sum(1 for c in counts.values() if c > 1)
    outcome = report(
        Outcome(case="7 soak, one worker", jobs=N, lost=lost, duplicates=duplicates),
        rss_idle_mb=round(idle, 1),
        rss_10k_mb=round(rss_10k, 1),
        rss_end_mb=round(rss_end, 1),
        jobs_per_s=round(N / elapsed),
    )
    assert lost == 0 and duplicates == 0, outcome
    assert rss_end - rss_10k <= 20.0, outcome
