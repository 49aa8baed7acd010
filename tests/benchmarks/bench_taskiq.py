"""taskiq-nats as users run it: ``taskiq worker bench_taskiq_tasks:broker`` in a child process.

The peer the issue's latency target is measured against, beside ``naq worker`` in the same
run on the same server. taskiq-nats's JetStream broker (``PullBasedJetStreamBroker``: a
durable pull consumer, as naq uses) with its defaults, and the ``taskiq worker`` CLI with
its defaults except ``--workers 1`` (its default is 2 processes; naq's figure is one).
Nothing else is tuned: taskiq's own logging at info, ack after the task ran (its default
``when_saved``; no result backend), one message per fetch.

- ``steady`` rate: the worker starts on an empty stream; once its pull request waits at
  the server (the consumer's ``num_waiting``) the tasks are sent with ``kiq``, 500 at a time
  concurrently; the clock runs from the end of sending (the count still to do is the number
  timed) until the consumer has nothing pending or unacknowledged. The ack comes after the
  task ran, so that is "all done". Polled from outside the worker, like bench_cli.py.
- idle latency: one task at a time to the idle worker, ``kiq`` to task start; the task
  publishes its start time on a reply subject (there is no result backend to read it from).

The process is started here in its own session and stopped by its pid: SIGTERM (taskiq
stops its worker child), then SIGKILL to that session's group after 15 s.
taskiq-nats is optional: :func:`available` says whether it can be imported, and nothing
here imports it before :meth:`TaskiqBench.start`.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import ModuleType
from typing import Any

import nats
from nats.aio.client import Client as NATS

__all__ = ["TaskiqBench", "available", "open_taskiq"]

HERE = Path(__file__).resolve().parent
_POLL = 0.01
_SEND_CHUNK = 500
# Its worker child sometimes does not exit on SIGTERM (seen once in 6 stops with taskiq 0.13,
# after every task had run); its own --shutdown-timeout is 5 s, so waiting longer is waste.
_STOP_GRACE = 15.0
_STREAM = "taskiq_jetstream"  # PullBasedJetStreamBroker's defaults
_DURABLE = "taskiq_durable"
_URL_ENV = "NAQ_BENCH_TASKIQ_URL"  # read by bench_taskiq_tasks.py


def available() -> bool:
    """Whether taskiq-nats (and so taskiq) can be imported here."""
    return importlib.util.find_spec("taskiq_nats") is not None


async def open_taskiq(
    url: str, *, timeout: float, log_dir: Path, report: Callable[[str], None]
) -> TaskiqBench | None:
    """A started :class:`TaskiqBench`, or None (reported) if taskiq-nats is missing or fails."""
    if not available():
        report("taskiq-nats is not installed: its rows are not measured")
        return None
    bench = TaskiqBench(url, timeout=timeout, log_dir=log_dir)
    try:
        await bench.start()
    except Exception as exc:
        report(f"taskiq-nats did not start ({type(exc).__name__}: {exc}): its rows are not measured")
        with suppress(Exception):
            await bench.close()
        return None
    return bench


class TaskiqBench:
    """One ``taskiq worker`` process against one server; figures in tasks/s or ms."""

    def __init__(self, url: str, *, timeout: float, log_dir: Path) -> None:
        self.url = url
        self.timeout = timeout
        self.log_dir = log_dir
        self._nc: NATS | None = None
        self._tasks: ModuleType | None = None
        self._runs = 0

    async def start(self) -> None:
        """Connect the poller and a producer broker (it creates the stream and consumer)."""
        os.environ[_URL_ENV] = self.url
        self._tasks = importlib.import_module("bench_taskiq_tasks")
        await self._tasks.broker.startup()
        self._nc = await nats.connect(self.url, name="naq-bench-taskiq-poll")

    async def close(self) -> None:
        if self._tasks is not None:
            await self._tasks.broker.shutdown()
            self._tasks = None
        if self._nc is not None:
            await self._nc.close()
            self._nc = None

    async def _consumer(self) -> Any:
        assert self._nc is not None, "call start() first"
        return await self._nc.jetstream().consumer_info(_STREAM, _DURABLE)

    async def _left(self) -> int:
        """Tasks not yet delivered plus delivered and not yet acknowledged."""
        info = await self._consumer()
        return int(info.num_pending) + int(info.num_ack_pending)

    @contextmanager
    def worker(self) -> Iterator[subprocess.Popen[bytes]]:
        """``taskiq worker bench_taskiq_tasks:broker --workers 1``, stopped by pid at the end."""
        self._runs += 1
        env = {
            **os.environ,
            _URL_ENV: self.url,
            "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
        }
        cmd = [sys.executable, "-m", "taskiq", "worker", "bench_taskiq_tasks:broker", "--workers", "1"]
        with (self.log_dir / f"taskiq-{self._runs}.log").open("wb") as log:
            proc = subprocess.Popen(
                cmd, cwd=HERE, env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True
            )
        try:
            yield proc
        finally:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=min(self.timeout, _STOP_GRACE))
            except subprocess.TimeoutExpired:
                print(
                    f"taskiq worker {proc.pid} still running {_STOP_GRACE:g} s after SIGTERM: killed",
                    file=sys.stderr,
                )
                os.killpg(proc.pid, signal.SIGKILL)  # its own session: the worker child too
                proc.wait()

    def _check(self, proc: subprocess.Popen[bytes], deadline: float, what: str) -> None:
        if proc.poll() is not None:
            raise RuntimeError(f"taskiq worker exited early (logs in {self.log_dir})")
        if time.monotonic() > deadline:
            raise TimeoutError(f"taskiq: {what} after {self.timeout:g} s")

    async def _wait_ready(self, proc: subprocess.Popen[bytes]) -> None:
        """Until the worker's pull request waits at the server (it listens)."""
        deadline = time.monotonic() + self.timeout
        while (await self._consumer()).num_waiting < 1:
            self._check(proc, deadline, "worker not listening")
            await asyncio.sleep(_POLL)

    async def _wait_done(self, proc: subprocess.Popen[bytes]) -> float:
        deadline = time.monotonic() + self.timeout
        while True:
            left = await self._left()
            now = time.perf_counter()
            if left == 0:
                return now
            self._check(proc, deadline, f"{left} tasks still to do")
            await asyncio.sleep(_POLL)

    async def drain(self, n: int) -> float:
        """Steady tasks/s of one taskiq worker process draining ``n`` no-op tasks."""
        assert self._tasks is not None, "call start() first"
        noop = self._tasks.noop
        with self.worker() as proc:
            await self._wait_ready(proc)
            for first in range(0, n, _SEND_CHUNK):
                await asyncio.gather(*(noop.kiq() for _ in range(min(_SEND_CHUNK, n - first))))
            t0, left0 = time.perf_counter(), await self._left()
            if left0 < n // 2:
                print(f"warning: only {left0} of {n} taskiq tasks left when timing began", file=sys.stderr)
            t1 = await self._wait_done(proc)
        return left0 / (t1 - t0)

    async def latency(self, samples: int, warmup: int = 20, gap: float = 0.005) -> list[float]:
        """``kiq``-to-start delays (ms) of single tasks sent to the idle worker."""
        assert self._tasks is not None and self._nc is not None, "call start() first"
        stamp = self._tasks.stamp
        reply = f"naq_bench.taskiq.{uuid.uuid4().hex[:8]}"
        sub = await self._nc.subscribe(reply)
        delays: list[float] = []
        try:
            with self.worker() as proc:
                await self._wait_ready(proc)
                for i in range(warmup + samples):
                    await asyncio.sleep(gap)
                    sent = time.time()
                    await stamp.kiq(reply)
                    msg = await sub.next_msg(timeout=self.timeout)
                    if i >= warmup:
                        delays.append((float(msg.data) - sent) * 1000.0)
                self._check(proc, time.monotonic() + self.timeout, "latency")
        finally:
            await sub.unsubscribe()
        return delays
