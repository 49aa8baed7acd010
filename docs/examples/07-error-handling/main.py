"""Errors: a failed job's remote traceback, timeouts, unknown ids and tasks, dead letters.

Run a worker first (``naq worker errors -t tasks``), then ``python main.py``. The dead
letters are read with the public API of naq-dlq-stream (installed by ``pip install naq``);
``naq dlq list --queue errors`` shows them too.
"""

from __future__ import annotations

import asyncio
import time

from tasks import add_amounts, charge_card, slow

from naq_core import JobFailedError, JobNotFoundError, Queue
from naq_dlq_stream import DeadLetterStore

WAIT = 30  # seconds: every wait is bounded, so this script always ends


async def main() -> None:
    async with Queue("errors") as queue:
        # 1. The job raised: JobFailedError carries the error and the worker's traceback.
        job = await queue.enqueue(add_amounts, "12.50", "twelve")
        try:
            await queue.fetch_job_result(job, timeout=WAIT)
        except JobFailedError as exc:
            print(f"failed: {exc.error_type}: {exc.error}")
            frames = [line.strip() for line in (exc.traceback or "").splitlines() if "tasks.py" in line]
            print(f"remote traceback: {len(frames)} frames in tasks.py, the last in {frames[-1].split()[-1]}")

        # 2. The job ran longer than its timeout: the attempt fails with JobTimeoutError.
        job = await queue.enqueue(slow, 10, timeout=0.5)
        try:
            await queue.fetch_job_result(job, timeout=WAIT)
        except JobFailedError as exc:
            print(f"timeout=0.5: {exc.error_type}: {exc.error}")

        # 3. The producer stopped waiting: TimeoutError, and the job runs on.
        job = await queue.enqueue(slow, 1)
        try:
            await queue.fetch_job_result(job, timeout=0.1)
        except TimeoutError:
            status = await queue.job_status(job.job_id)
            print(f"waited 0.1 s: TimeoutError, the job is still {status.value}")
        print(f"waited longer: {await queue.fetch_job_result(job, timeout=WAIT)}")

        # 4. An id naq never saw, and a task the worker does not know.
        try:
            await queue.fetch_job_result("no-such-job", timeout=WAIT)
        except JobNotFoundError:
            print("unknown job id: JobNotFoundError")
        job = await queue.enqueue("tasks:no_such_task")
        try:
            await queue.fetch_job_result(job, timeout=WAIT)
        except JobFailedError as exc:
            print(f"unknown task: {exc.error_type}")

        # 5. Retries spent: the job is a dead letter, kept with its payload for a requeue.
        job = await queue.enqueue(charge_card, "4242", max_retries=1, retry_delay=0.1)
        try:
            await queue.fetch_job_result(job, timeout=WAIT)
        except JobFailedError as exc:
            attempts = (await queue.job_record(job.job_id)).attempt
            print(f"charge_card: {exc.error_type} after {attempts} attempts")
        store = DeadLetterStore(await queue.connection())
        deadline = time.monotonic() + WAIT  # the record is final a moment before the letter is stored
        while True:
            try:
                letter = (await store.get(job.job_id)).letter
                break
            except JobNotFoundError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)
        print(f"dead letter: reason {letter.reason.value!r}, {letter.attempts} attempts, {letter.error}")


if __name__ == "__main__":
    asyncio.run(main())
