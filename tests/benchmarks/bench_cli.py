"""The worker as users run it: ``naq worker QUEUE -t bench_tasks`` in child processes.

Default config and default logging (``info``, console lines on stderr, written to a file
here so the terminal stays readable); nothing is tuned. Jobs are enqueued first, then the
workers start; the clock is read from the stream's message count, polled from outside the
workers (a no-op job is acknowledged only once its record is stored, so a message leaving
the work-queue stream means "ran and recorded"):

- ``steady`` rate: the workers start on an empty queue; once every process has announced
  itself (its first heartbeat, written as it starts) the jobs are enqueued with one
  ``enqueue_many``; the clock runs from the end of that call (the count still waiting is
  the number timed) to the moment all jobs are gone. Python start-up, imports and
  connecting are left out, and a second process is never timed before it has started;
- idle latency: one job at a time to an idle worker, enqueue to task start;
- memory (``--soak N``): the RSS of one worker idle, after 10,000 jobs and after N;
- CPU: the CPU seconds the workers and nats-server spent during each timed drain, per job
  (``cpu_per_job``), from which run.py derives what two processes can reach on this
  machine at most.

Every process is started here and stopped by its pid (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import bench_tasks
import nats
from nats.aio.client import Client as NATS

from naq_core import Queue
from naq_core.heartbeat import list_workers

__all__ = ["CliBench", "cpu_seconds", "rss_kib"]

HERE = Path(__file__).resolve().parent
_POLL = 0.01
_JOBS_STREAM = "naq_jobs"  # the stream every queue's jobs live in (docs/architecture.md)


def rss_kib(pid: int) -> int:
    """Resident set size of ``pid`` in KiB (Linux ``/proc``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds ``pid`` has used so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _queue_name(kind: str) -> str:
    return f"cli_{kind}_{uuid.uuid4().hex[:8]}"


class CliBench:
    """``naq worker`` child processes against one server; figures in jobs/s, ms or KiB."""

    def __init__(self, url: str, *, timeout: float, log_dir: Path, extra: tuple[str, ...] = ()) -> None:
        self.url = url
        self.timeout = timeout
        self.log_dir = log_dir
        self.extra = extra  # more `naq` options, e.g. ("--log-level", "warning")
        self.server_pid: int | None = None  # nats-server's pid, for the CPU figures
        #: CPU microseconds per job of the last drain: {"workers": ..., "server": ...}
        self.cpu_per_job: dict[str, float] = {}
        self._nc: NATS | None = None

    async def start(self) -> None:
        self._nc = await nats.connect(self.url, name="naq-bench-cli-poll")

    async def close(self) -> None:
        if self._nc is not None:
            await self._nc.close()
            self._nc = None

    async def _waiting(self) -> int:
        """Messages in the jobs stream (all queues; the bench runs one queue at a time)."""
        assert self._nc is not None, "call start() first"
        info = await self._nc.jetstream().stream_info(_JOBS_STREAM)
        return info.state.messages

    @contextmanager
    def workers(self, queue: str, count: int) -> Iterator[list[subprocess.Popen[bytes]]]:
        """``count`` ``naq worker`` processes on ``queue``, stopped by pid at the end."""
        procs: list[subprocess.Popen[bytes]] = []
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
        env.pop("NAQ_LOG_LEVEL", None)
        env.pop("NAQ_LOG_FORMAT", None)
        try:
            for i in range(count):
                log = (self.log_dir / f"{queue}-{i}.log").open("wb")
                cmd = [sys.executable, "-m", "naq_core.cli", "--nats-url", self.url, *self.extra]
                cmd += ["worker", queue, "-t", "bench_tasks", "--name", f"bench-{i}"]
                procs.append(subprocess.Popen(cmd, cwd=HERE, env=env, stdout=subprocess.DEVNULL, stderr=log))
                log.close()
            yield procs
        finally:
            for proc in procs:
                if proc.poll() is None:
                    os.kill(proc.pid, signal.SIGTERM)
            for proc in procs:
                try:
                    proc.wait(timeout=self.timeout)
                except subprocess.TimeoutExpired:
                    os.kill(proc.pid, signal.SIGKILL)
                    proc.wait()

    async def _wait_below(self, limit: int, procs: list[subprocess.Popen[bytes]]) -> tuple[float, int]:
        """Poll until at most ``limit`` messages wait; returns (perf_counter, count)."""
        deadline = time.monotonic() + self.timeout
        while True:
            left = await self._waiting()
            now = time.perf_counter()
            if left <= limit:
                return now, left
            if any(p.poll() is not None for p in procs):
                raise RuntimeError(f"a worker exited early (logs in {self.log_dir})")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{left} jobs still waiting after {self.timeout:g} s")
            await asyncio.sleep(_POLL)

    async def _wait_started(self, queue: Queue, procs: list[subprocess.Popen[bytes]]) -> None:
        """Poll the heartbeats until every process in ``procs`` has announced itself."""
        conn = await queue.connection()
        pids = {p.pid for p in procs}
        deadline = time.monotonic() + self.timeout
        while True:
            if pids <= {w.pid for w in await list_workers(conn) if w.status == "running"}:
                await asyncio.sleep(0.3)  # its consumer starts right after the first beat
                return
            if any(p.poll() is not None for p in procs):
                raise RuntimeError(f"a worker exited early (logs in {self.log_dir})")
            if time.monotonic() > deadline:
                raise TimeoutError(f"workers not busy after {self.timeout:g} s")
            await asyncio.sleep(_POLL)

    async def drain(self, n: int, task: Callable[..., Any], processes: int = 1) -> float:
        """Steady jobs/s of ``processes`` CLI workers draining ``n`` pre-enqueued jobs."""
        name = _queue_name("drain")
        async with Queue(name, self.url) as queue:
            base = await self._waiting()  # other queues' leftovers, if any
            with self.workers(name, processes) as procs:
                await self._wait_started(queue, procs)
                jobs = await queue.enqueue_many([(task, ())] * n)
                cpu0 = self._cpu(procs)
                t0, left0 = time.perf_counter(), await self._waiting()
                if left0 - base < n // 2:
                    print(f"warning: only {left0 - base} of {n} jobs left when timing began", file=sys.stderr)
                t1, _ = await self._wait_below(base, procs)
                cpu1 = self._cpu(procs)
                timed = max(1, left0 - base)
                self.cpu_per_job = {k: 1e6 * (cpu1[k] - cpu0[k]) / timed for k in cpu1}
                await queue.fetch_job_result(jobs[-1], timeout=self.timeout)  # results stored
        return (left0 - base) / (t1 - t0)

    def _cpu(self, procs: list[subprocess.Popen[bytes]]) -> dict[str, float]:
        figures = {"workers": sum(cpu_seconds(p.pid) for p in procs)}
        if self.server_pid is not None:
            figures["server"] = cpu_seconds(self.server_pid)
        return figures

    async def latency(self, samples: int, warmup: int = 20, gap: float = 0.005) -> list[float]:
        """Enqueue-to-start delays (ms) of single jobs sent to one idle CLI worker."""
        assert self._nc is not None, "call start() first"
        name = _queue_name("latency")
        reply = f"naq_bench.stamp.{uuid.uuid4().hex[:8]}"
        sub = await self._nc.subscribe(reply)
        delays: list[float] = []
        try:
            async with Queue(name, self.url) as queue:
                await queue.connection()
                with self.workers(name, 1):
                    for i in range(warmup + samples):
                        await asyncio.sleep(gap)
                        sent = time.time()
                        await queue.enqueue(bench_tasks.stamp_to, self.url, reply)
                        # the producer only waits; the first sample waits for the process to start
                        msg = await sub.next_msg(timeout=self.timeout)
                        if i >= warmup:
                            delays.append((float(msg.data) - sent) * 1000.0)
        finally:
            await sub.unsubscribe()
        return delays

    async def soak(
        self, total: int, chunk: int = 10_000, report: Callable[[str], None] = print
    ) -> dict[str, int]:
        """RSS (KiB) of one CLI worker: idle after start, after 10,000 jobs, after ``total``.

        Jobs go in ``chunk`` at a time, the next chunk once the worker is below half a
        chunk, so the stream never holds much.
        """
        name = _queue_name("soak")
        figures: dict[str, int] = {}
        async with Queue(name, self.url) as queue:
            await queue.connection()
            with self.workers(name, 1) as procs:
                pid = procs[0].pid
                probe = await queue.enqueue(bench_tasks.noop)
                await queue.fetch_job_result(probe, timeout=self.timeout)
                await asyncio.sleep(2.0)
                figures["idle_start"] = rss_kib(pid)
                base = await self._waiting()
                sent = 0
                marks = sorted({min(10_000, total), total})
                while sent < total:
                    size = min(chunk, total - sent)
                    await queue.enqueue_many([(bench_tasks.noop, ())] * size)
                    sent += size
                    if sent in marks:
                        await self._wait_below(base, procs)
                        await asyncio.sleep(1.0)
                        figures[f"after_{sent}"] = rss_kib(pid)
                        report(f"  soak: {sent:,} jobs, RSS {figures[f'after_{sent}'] / 1024:.1f} MiB")
                    else:
                        await self._wait_below(base + chunk // 2, procs)
                await asyncio.sleep(5.0)
                figures["idle_end"] = rss_kib(pid)
        return figures
