"""Chaos cases on one nats-server: workers killed, stopped, outlived by their jobs, or killed
by them (issue 12 cases 1, 2, 5 and 6; the soak, case 7, is in ``test_soak.py``)."""

from __future__ import annotations

import asyncio
import signal
import time

import pytest
from chaos_support import Chaos, Event, report, sized

from naq_core import Queue
from naq_core._jetstream.names import JOBS_STREAM, consumer_name
from naq_core.deadletter import DeadLetterReason
from naq_core.job import JobStatus
from naq_dlq_stream import DeadLetterStore

pytestmark = pytest.mark.timeout(sized(120, 900))


def _by(events: list[Event], kind: str, pid: int) -> set[str]:
    return {e.token for e in events if e.kind == kind and e.pid == pid}


async def test_sigkill_one_of_two_workers(chaos: Chaos) -> None:
    """Case 1: SIGKILL a worker in the middle of the run, default settings: none lost, the
    only duplicates are jobs the killed worker held, and its jobs run again within 10 s."""
    n = sized(1_000, 5_000)
    tokens = chaos.tokens(n)
    a = chaos.start_worker()
    b = chaos.start_worker()
    await chaos.enqueue("work", tokens, seconds=0.05)
    await chaos.wait_for(lambda: chaos.recording.lines() >= n // 2, 120, "a quarter of the jobs ran")
    events = chaos.recording.events()
    assert _by(events, "S", a.pid) and _by(events, "S", b.pid), "both workers took jobs"
    killed_at = time.time()
    a.signal(signal.SIGKILL, timeout=10)
    done = await chaos.wait_completed(tokens, 120)

    events = chaos.recording.events()
    started_by_a, ended_by_a = _by(events, "S", a.pid), _by(events, "E", a.pid)
    orphans = started_by_a - ended_by_a  # running on `a` when it died
    assert orphans, "the kill hit jobs while they ran"
    duplicated = {t for t, count in done.items() if count > 1}
    assert duplicated <= started_by_a, "only jobs the killed worker held ran twice"
    rerun = {t for t in started_by_a if any(e.token == t and e.pid != a.pid for e in events)}
    rerun_at = {e.token: e.at for e in events if e.kind == "S" and e.pid != a.pid and e.token in rerun}
    recovery = max(rerun_at[t] for t in orphans) - killed_at
    outcome = report(
        chaos.outcome("1 SIGKILL one of two workers", tokens),
        recovery=recovery,
        orphaned=len(orphans),
        finished_after_kill=round(max(e.at for e in events) - killed_at, 3),
    )
    assert outcome.lost == 0
    assert outcome.duplicates == len(duplicated)
    # The requirement: a dead worker's jobs run again within 10 s (default ack_wait 5 s).
    assert recovery < 10.0, outcome


@pytest.mark.parametrize("runtime", ["async", "sync"])
async def test_long_jobs_never_run_twice_at_once(chaos: Chaos, runtime: str) -> None:
    """Case 2: jobs lasting several times ack_wait, two workers: each runs once, never on
    two workers at once. Short: ack_wait 1 s, 3.5 s jobs; full: the default ack_wait, 3x."""
    n = sized(16, 40)
    seconds = sized(35, 160) / 10  # 3.5 s, or 16 s (> 3 x the default 5 s)
    settings = {"ack_wait": 1} if n == 16 else {}
    tokens = chaos.tokens(n)
    chaos.start_worker(concurrency=10, **settings)
    chaos.start_worker(concurrency=10, **settings)
    await chaos.enqueue("work" if runtime == "async" else "sync_work", tokens, seconds=seconds)
    await chaos.wait_completed(tokens, 4 * seconds + 60)

    events = chaos.recording.events()
    runs: dict[str, list[Event]] = {}
    for e in events:
        runs.setdefault(e.token, []).append(e)
    for token, seen in runs.items():
        seen.sort(key=lambda e: (e.at, e.kind != "S"))
        open_runs = 0
        for e in seen:
            open_runs += 1 if e.kind == "S" else -1
            assert open_runs <= 1, f"{token} ran twice at once: {seen}"
    starts = sum(1 for e in events if e.kind == "S")
    outcome = report(
        chaos.outcome(f"2 long jobs ({seconds} s, {runtime}) on two workers", tokens),
        ack_wait=settings.get("ack_wait", "default"),
        starts=starts,
    )
    assert outcome.lost == 0
    assert starts == n, "no job was handed to a second worker while its worker lived"


@pytest.mark.parametrize("grace", ["enough", "short"])
async def test_sigterm_gives_back_waiting_jobs_at_once(chaos: Chaos, grace: str) -> None:
    """Case 5: SIGTERM a worker holding running and prefetched jobs, another worker idle.
    Prefetched jobs go back at once (the idle one starts them while the stopping one's jobs
    still run); running ones finish within the grace (``enough``) or are cancelled and go
    back at once (``short``: 1 s). ack_wait is 60 s: nothing may wait for it."""
    gate = chaos.tmp_path / "gate"
    # `a` learns its jobs are short (so it prefetches), then takes every held job.
    a = chaos.start_worker(concurrency=10, ack_wait=60, shutdown_timeout=30 if grace == "enough" else 1)
    warmup = chaos.tokens(300)
    await chaos.enqueue("work", warmup)
    await chaos.wait_completed(warmup, 60)
    tokens = chaos.tokens(40)
    await chaos.enqueue("hold", tokens, gate=str(gate))
    await chaos.wait_for(
        lambda: len(_by(chaos.recording.events(), "S", a.pid) & set(tokens)) == 10, 30, "a runs 10"
    )
    waiting, held = await _consumer_counts(chaos)  # not delivered yet; delivered, unacked
    held -= 10  # held by `a` beyond the 10 it runs
    assert held > 0, "a prefetched jobs it cannot start yet"
    b = chaos.start_worker(concurrency=50, ack_wait=60)
    stopped_at = time.time()
    a.popen.send_signal(signal.SIGTERM)
    expect_on_b = held + waiting + (10 if grace == "short" else 0)
    await chaos.wait_for(
        lambda: len(_by(chaos.recording.events(), "S", b.pid) & set(tokens)) >= expect_on_b,
        20,
        f"b started the {expect_on_b} jobs a gave back (ack_wait is 60 s, the grace 30 s)",
    )
    started_b = [
        e.at for e in chaos.recording.events() if e.kind == "S" and e.pid == b.pid and e.token in tokens
    ]
    if grace == "enough":
        assert not _by(chaos.recording.events(), "E", a.pid) & set(tokens), "a's jobs still run"
    gate.touch()
    assert a.wait(timeout=40) == 0, a.output
    done = await chaos.wait_completed(tokens, 30)

    outcome = report(
        chaos.outcome(f"5 SIGTERM with jobs running (grace {grace})", tokens),
        recovery=max(started_b) - stopped_at,
        prefetched=held,
        given_back=expect_on_b,
    )
    assert outcome.lost == 0
    assert all(count == 1 for t, count in done.items() if t in tokens), "each finished once"
    ended_on_a = _by(chaos.recording.events(), "E", a.pid) & set(tokens)
    assert len(ended_on_a) == (10 if grace == "enough" else 0)


async def test_job_that_kills_its_worker_ends_in_dead_letters(chaos: Chaos) -> None:
    """Case 6: a job whose process dies every time (``os._exit``) is dead-lettered after
    ``max_deliver`` deliveries (3 here, ack_wait 1 s); the other jobs all complete. Dead
    workers are restarted, as a supervisor would."""
    settings = {"ack_wait": 1, "max_deliver": 3, "concurrency": 5}
    n = sized(300, 3_000)
    tokens = chaos.tokens(n)
    workers = [chaos.start_worker(**settings) for _ in range(2)]
    async with Queue(chaos.queue, nats_url=chaos.nats_url) as q:
        poison = await q.enqueue("chaos_tasks:die", "p" * 32, max_retries=0)
        await chaos.enqueue("work", tokens, seconds=0.01)
        deaths = 0
        deadline = time.monotonic() + sized(90, 300)
        done = set(tokens)
        while True:
            for i, child in enumerate(workers):
                if child.popen.poll() is not None:
                    deaths += 1
                    workers[i] = chaos.start_worker(**settings)
            record = await q.job_record(poison.job_id)
            if record.status is JobStatus.FAILED and done <= set(chaos.recording.completed()):
                break
            assert time.monotonic() < deadline, f"poison {record.status}, deaths {deaths}"
            await asyncio.sleep(0.2)
        stored = await DeadLetterStore(await q.connection()).get(poison.job_id)  # naq-dlq-stream's
    deaths += sum(1 for child in workers if child.popen.poll() is not None)  # none, if all is well
    outcome = report(chaos.outcome("6 a job that kills its worker", tokens), worker_deaths=deaths)
    assert record.error_type == "MaxDeliveriesExceeded", record
    assert stored.letter.reason is DeadLetterReason.MAX_DELIVERIES
    assert deaths == settings["max_deliver"], "the poison ran max_deliver times, then never again"
    assert outcome.lost == 0


async def _consumer_counts(chaos: Chaos) -> tuple[int, int]:
    """The queue's consumer: messages not delivered yet, and delivered but not acked."""
    async with Queue(chaos.queue, nats_url=chaos.nats_url) as q:
        conn = await q.connection()
        info = await conn.js.consumer_info(JOBS_STREAM, consumer_name(chaos.queue))
    return info.num_pending, info.num_ack_pending
