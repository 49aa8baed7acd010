"""Hello world: enqueue two jobs on the queue ``hello`` and wait for their results.

Run a worker first (``naq worker hello -t tasks``), then ``python main.py``.
"""

from __future__ import annotations

import asyncio

from tasks import add, greet

from naq_core import Queue

WAIT = 30  # seconds: every wait is bounded, so this script always ends


async def main() -> None:
    # Queue() reads the configuration: NAQ_NATS_URL, else nats://127.0.0.1:4222.
    async with Queue("hello") as queue:
        job = await queue.enqueue(add, 2, 3)
        print(f"enqueued {job.function} as job {job.job_id}")
        print(f"add(2, 3) = {await queue.fetch_job_result(job, timeout=WAIT)}")

        job = await queue.enqueue(greet, "naq")
        result = await queue.fetch_job_result(job, timeout=WAIT)
        print(f"greet('naq') = {result!r}")
        print(f"status of job {job.job_id}: {(await queue.job_status(job.job_id)).value}")


if __name__ == "__main__":
    asyncio.run(main())
