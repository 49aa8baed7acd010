"""Retries and backoff: which failures are retried, how often, and how long in between.

Run a worker first (``naq worker retries -t tasks``), then ``python main.py``.
"""

from __future__ import annotations

import asyncio
import uuid

from tasks import always_down, bad_input, flaky, forbidden

from naq_core import Job, JobFailedError, Queue

WAIT = 30  # seconds: every wait is bounded, so this script always ends


async def outcome(queue: Queue, job: Job) -> str:
    """``result ...`` or ``failed (ErrorType)``, and the number of attempts the job took."""
    try:
        text = f"result {await queue.fetch_job_result(job, timeout=WAIT)!r}"
    except JobFailedError as exc:
        text = f"failed ({exc.error_type})"
    attempts = (await queue.job_record(job.job_id)).attempt
    return f"{text} after {attempts} attempt{'s' if attempts > 1 else ''}"


async def main() -> None:
    run = uuid.uuid4().hex[:8]  # flaky() counts attempts per key: a new key for each run
    async with Queue("retries") as queue:
        # Exponential backoff: retry_delay * 2 ** (retry - 1), so 0.2 s, then 0.4 s.
        job = await queue.enqueue(
            flaky, f"exp-{run}", max_retries=3, retry_delay=0.2, retry_strategy="exponential"
        )
        print(f"exponential backoff: {await outcome(queue, job)}")

        # A list of delays: one per retry, the last one repeats. retry_on: only these errors.
        job = await queue.enqueue(
            flaky, f"list-{run}", max_retries=3, retry_delay=[0.1, 0.5], retry_on=[ConnectionError]
        )
        print(f"list backoff, retry_on=[ConnectionError]: {await outcome(queue, job)}")

        # Retries run out: 1 attempt + 2 retries, then the job fails (and is a dead letter).
        job = await queue.enqueue(always_down, max_retries=2, retry_delay=0.1)
        print(f"always down, max_retries=2: {await outcome(queue, job)}")

        # ignore_on: never retry these, whatever max_retries says.
        job = await queue.enqueue(forbidden, max_retries=3, ignore_on=[PermissionError])
        print(f"ignore_on=[PermissionError]: {await outcome(queue, job)}")

        # retry_on: anything else is not retried (names as strings work too).
        job = await queue.enqueue(bad_input, "forty-two", max_retries=3, retry_on=["ConnectionError"])
        print(f"ValueError with retry_on=['ConnectionError']: {await outcome(queue, job)}")


if __name__ == "__main__":
    asyncio.run(main())
