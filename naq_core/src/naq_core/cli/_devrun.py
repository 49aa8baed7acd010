"""The asyncio half of ``naq dev``: a worker in this process, the samples, their results."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import uuid
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

import click
from attrs import frozen

from naq_core.cli._state import restore_interrupt_handlers
from naq_core.errors import JobFailedError, NaqError

if TYPE_CHECKING:
    from naq_core.config import Config
    from naq_core.job import Job
    from naq_core.queue import Queue

__all__ = ["Sample", "enqueue_samples", "run_dev"]

RESULT_TIMEOUT = 60.0
SAMPLES_MODULE = "naq_core.cli.samples"


@frozen(kw_only=True)
class Sample:
    """One enqueued sample: what was called, the job, and whether it is meant to fail."""

    label: str
    job: Job
    expect_failure: bool = False


async def enqueue_samples(queue: Queue) -> list[Sample]:
    """Enqueue the sample jobs of :mod:`naq_core.cli.samples` on ``queue``."""
    from naq_core.cli import samples

    first = await queue.enqueue(samples.add, 2, 3)
    slow = await queue.enqueue(samples.slow_hello, "naq", delay=0.5)
    retried = await queue.enqueue(samples.flaky, uuid.uuid4().hex, max_retries=2, retry_delay=0.2)
    failing = await queue.enqueue(samples.fail_always, max_retries=1, retry_delay=0.2)
    after = await queue.enqueue(samples.add, 40, 2, depends_on=[first, slow])
    return [
        Sample(label="add(2, 3)", job=first),
        Sample(label="slow_hello('naq')", job=slow),
        Sample(label="flaky(key) with max_retries=2", job=retried),
        Sample(label="fail_always() with max_retries=1", job=failing, expect_failure=True),
        Sample(label="add(40, 2) depending on the first two", job=after),
    ]


async def _report(queue: Queue, samples: list[Sample]) -> int:
    """Print each sample's outcome as it arrives; return how many surprised us."""

    async def one(sample: Sample) -> bool:
        try:
            value = await queue.fetch_job_result(sample.job, timeout=RESULT_TIMEOUT)
        except JobFailedError as exc:
            note = "failed, as intended" if sample.expect_failure else "FAILED"
            click.echo(f"  {sample.label} -> {note}: {exc.error_type}: {exc.error}")
            return not sample.expect_failure
        click.echo(f"  {sample.label} -> {value!r}")
        return sample.expect_failure

    outcomes = await asyncio.gather(*(one(sample) for sample in samples))
    return sum(outcomes)


async def _until_first(main: Awaitable[Any], worker: asyncio.Task[None], stop: asyncio.Event) -> Any:
    """Await ``main`` unless the worker dies or a stop is requested first."""
    waiter = asyncio.ensure_future(main)
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({waiter, worker, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
    if waiter.done():
        return waiter.result()
    waiter.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await waiter
    if worker.done():
        worker.result()  # raises what stopped it
        raise NaqError("the worker stopped unexpectedly")
    return None


def _install_signals(stop: asyncio.Event) -> list[int]:
    loop = asyncio.get_running_loop()
    installed: list[int] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):
            pass
    return installed


async def run_dev(config: Config, *, samples: bool, once: bool) -> None:
    """Run a worker for the sample and config tasks; enqueue and report the samples.

    ``once``: return when every sample has finished (raise if one surprised us); else run
    until SIGINT/SIGTERM. Either way the worker is drained before returning.
    """
    from naq_core.queue import Queue
    from naq_core.worker import Worker

    stop = asyncio.Event()
    installed = _install_signals(stop)
    tasks = tuple(dict.fromkeys((SAMPLES_MODULE, *config.tasks)))
    worker = Worker([config.default_queue], config=config, tasks=tasks, install_signal_handlers=False)
    running = asyncio.create_task(worker.run(), name="naq-dev-worker")
    await asyncio.sleep(0)  # let the worker bind its loop so request_stop() reaches it
    queue = Queue(config=config)
    report: asyncio.Task[int] | None = None
    surprises = 0
    try:
        click.echo(
            f"Worker {worker.worker_id}: queue {config.default_queue}, "
            f"concurrency {config.concurrency}, tasks from {', '.join(tasks)}"
        )
        if samples:
            jobs = await _until_first(enqueue_samples(queue), running, stop)
            if jobs:
                click.echo(f"Enqueued {len(jobs)} sample jobs on {config.default_queue}:")
                for sample in jobs:
                    click.echo(f"  {sample.label}: job {sample.job.job_id}")
                click.echo("Results:")
                report = asyncio.create_task(_report(queue, jobs), name="naq-dev-report")
        if once:
            if report is not None:
                surprises = await _until_first(report, running, stop) or 0
        else:
            click.echo(
                "Look around from another terminal: naq queues, naq workers, naq job, naq schedule list "
                "(add --nats-url if the port is not 4222). Press Ctrl-C to stop."
            )
            await _until_first(stop.wait(), running, stop)
    finally:
        if report is not None and not report.done():
            report.cancel()
        worker.request_stop()
        try:
            await asyncio.wait_for(asyncio.shield(running), timeout=config.shutdown_timeout + 15)
        except TimeoutError:
            running.cancel()
        finally:
            await queue.close()
            loop = asyncio.get_running_loop()
            for sig in installed:
                loop.remove_signal_handler(sig)
            restore_interrupt_handlers()
    if surprises:
        raise NaqError(f"{surprises} sample job(s) did not end as expected (see above)")
