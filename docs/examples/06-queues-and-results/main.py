"""Several queues, many jobs at once, and gathering their results.

Run one worker for both queues first (``naq worker emails reports -t tasks -c 8``), then
``python main.py``.
"""

from __future__ import annotations

import asyncio

from tasks import send_email, square, total

from naq_core import Queue

WAIT = 30  # seconds: every wait is bounded, so this script always ends


async def main() -> None:
    async with Queue("emails") as emails, Queue("reports") as reports:
        mail = await emails.enqueue(send_email, "ada@example.com", subject="Your report")

        # enqueue_many publishes a batch at once (one flush): (func, args) or (func, args, kwargs).
        jobs = await reports.enqueue_many([(square, (n,)) for n in range(1, 11)])
        print(f"enqueued {len(jobs)} jobs on 'reports' in one batch")

        # Wait for all of them together; results come back in the order of `jobs`.
        squares = await asyncio.gather(*(reports.fetch_job_result(job, timeout=WAIT) for job in jobs))
        print(f"squares: {squares}")
        job = await reports.enqueue(total, squares)
        print(f"total: {await reports.fetch_job_result(job, timeout=WAIT)}")
        print(f"email: {await emails.fetch_job_result(mail, timeout=WAIT)}")

        # Which worker ran what: the job records say (here, the one worker serving both).
        workers = {(await emails.job_record(mail.job_id)).worker_id}
        workers |= {(await reports.job_record(j.job_id)).worker_id for j in jobs}
        print(f"workers that ran these jobs: {len(workers)}")


if __name__ == "__main__":
    asyncio.run(main())
