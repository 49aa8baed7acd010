"""Chaos case 3: nats-server stopped and started again (same store, same port) in the middle
of a run, with producers enqueueing and ``naq worker`` processes working.

Nothing is lost: every enqueue that returned completes; an enqueue may instead raise
:class:`NaqConnectionError` (counted and reported: never seen with an outage shorter than
the 30 s bound), never anything else and never a silent drop. Workers reconnect on their
own. One-off schedules due while the server is down fire after it is back. A burst of
slower jobs just before the stop keeps the workers busy (jobs running and prefetched) when
the server goes: at least once, those may run twice, nothing else does.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import pytest
from chaos_support import Chaos, Event, report, sized
from chaos_tasks import work

from naq_core import NaqConnectionError, Queue
from naq_core.server import EmbeddedServer

pytestmark = pytest.mark.timeout(sized(150, 900))


class _Producer:
    """Enqueues its tokens one call at a time (alternately ``enqueue`` and a small
    ``enqueue_many``), noting which calls returned and which raised NaqConnectionError."""

    def __init__(self, queue: Queue, tokens: list[str], batch: int) -> None:
        self.queue = queue
        self.tokens = tokens
        self.batch = batch
        self.stored: list[str] = []
        self.failed: list[str] = []
        self.errors: list[str] = []
        self.returned_at: list[float] = []

    async def run(self, pause: float) -> None:
        step = 0
        i = 0
        while i < len(self.tokens):
            size = 1 if step % 2 == 0 else self.batch
            chunk = self.tokens[i : i + size]
            try:
                if size == 1:
                    await self.queue.enqueue(work, chunk[0])
                else:
                    await self.queue.enqueue_many([(work, (t,)) for t in chunk])
            except NaqConnectionError as exc:
                self.failed += chunk
                self.errors.append(str(exc))
            else:
                self.stored += chunk
                self.returned_at.append(time.time())
            i += size
            step += 1
            await asyncio.sleep(pause)


async def test_server_restart_mid_run(chaos: Chaos, fresh_nats_server: EmbeddedServer) -> None:
    server = fresh_nats_server
    url = server.url
    n = sized(1_500, 10_000)
    outage = sized(20, 50) / 10  # seconds the server stays down: 2 s, or 5 s
    lead = sized(6, 12)  # seconds from the start to the schedules' due time (mid-outage)
    producers_n, batch = 2, sized(20, 50)
    tokens = chaos.tokens(n)
    scheduled = chaos.tokens(sized(20, 100))
    busy = chaos.tokens(sized(400, 2_000))  # 0.2 s jobs sent just before the stop: workers busy
    chaos.start_worker(nats_url=url)
    chaos.start_worker(nats_url=url)

    # one-off schedules due in the middle of the outage (fired by the server itself)
    began = time.time()
    due_at = began + lead
    async with Queue(chaos.queue, url) as q:
        due = dt.datetime.fromtimestamp(due_at, dt.UTC)
        for token in scheduled:
            await q.enqueue_at(due, work, token)

    queues = [Queue(chaos.queue, url) for _ in range(producers_n)]
    try:
        producers = [_Producer(q, tokens[k::producers_n], batch) for k, q in enumerate(queues)]
        # paced to last past the outage: about lead + outage + 3 s
        steps = (n / producers_n) / ((1 + batch) / 2)
        running = [asyncio.create_task(p.run(pause=(lead + outage + 3) / steps)) for p in producers]
        await asyncio.sleep(max(0.0, due_at - outage / 2 - 1 - time.time()))
        await chaos.enqueue("work", busy, nats_url=url, seconds=0.2)
        await asyncio.sleep(max(0.0, due_at - outage / 2 - time.time()))
        assert set(busy) & set(chaos.recording.started()), "the workers were busy when the server stopped"
        stopped_at = time.time()
        server.stop()
        assert time.time() < due_at, "the server was down before the schedules were due"
        await asyncio.sleep(max(0.0, stopped_at + outage - time.time()))
        assert not all(t.done() for t in running), "the producers were still at work during the outage"
        server.start(timeout=30)  # same port, same store (a loaded machine can be slow to start it)
        started_at = time.time()
        assert started_at > due_at, "the schedules fell due while the server was down"

        async with asyncio.timeout(sized(60, 300)):
            await asyncio.gather(*running)
    finally:
        for q in queues:
            await q.close()

    stored = [t for p in producers for t in p.stored]
    failed = [t for p in producers for t in p.failed]
    wanted = stored + scheduled + busy
    await chaos.wait_completed(wanted, sized(90, 300))
    events = chaos.recording.events()
    resumed = min((e.at for e in events if e.kind == "E" and e.at > started_at), default=None)
    producer_back = min((at for p in producers for at in p.returned_at if at > started_at), default=None)
    fired = min((e.at for e in events if e.kind == "S" and e.token in set(scheduled)), default=None)
    outcome = report(
        chaos.outcome("3 nats-server restart mid-run", wanted),
        recovery=None if resumed is None else resumed - started_at,
        outage=round(started_at - stopped_at, 3),
        enqueue_failed=len(failed),
        producer_resumed=None if producer_back is None else round(producer_back - started_at, 3),
        schedules=len(scheduled),
        first_schedule_fired=None if fired is None else round(fired - started_at, 3),
        errors=sorted({e[:120] for p in producers for e in p.errors}),
        ended_while_down=sum(1 for e in events if e.kind == "E" and stopped_at < e.at < started_at),
        duplicates_ran=_duplicates_ran(events, stopped_at, started_at),
    )
    done = chaos.recording.completed()
    first_start: dict[str, float] = {}
    for e in events:
        if e.kind == "S":
            first_start.setdefault(e.token, e.at)
    twice = {t for t in wanted if done[t] > 1}
    # at least once: only jobs a worker held when the server went down ran twice
    assert all(first_start[t] < started_at for t in twice), outcome
    assert len(stored) + len(failed) == n  # every call either returned or raised NaqConnectionError
    assert outcome.lost == 0, outcome  # every enqueue that returned completed; every schedule fired
    assert resumed is not None, "the workers took jobs again after the restart"


def _duplicates_ran(events: list[Event], stopped_at: float, started_at: float) -> dict[str, object] | None:
    """When the jobs that ran twice ended the first time (seconds from the stop) and started
    the second time (seconds from the restart), and how many ran twice on one worker."""
    runs: dict[str, list[Event]] = {}
    for e in events:
        runs.setdefault(e.token, []).append(e)
    twice = [r for r in runs.values() if sum(1 for e in r if e.kind == "E") > 1]
    if not twice:
        return None
    ended = [next(e.at for e in r if e.kind == "E") - stopped_at for r in twice]
    again = [[e for e in r if e.kind == "S"][1].at - started_at for r in twice]
    same = sum(1 for r in twice if len({e.pid for e in r if e.kind == "E"}) == 1)
    return {
        "first_ended": (round(min(ended), 2), round(max(ended), 2)),
        "again_started": (round(min(again), 2), round(max(again), 2)),
        "same_worker": same,
    }
