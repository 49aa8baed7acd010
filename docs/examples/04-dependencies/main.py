"""Dependencies: a job that waits for others, and a failure that cascades down a chain.

Run a worker first (``naq worker deps -t tasks -c 4``), then ``python main.py``.
"""

from __future__ import annotations

import asyncio
import uuid

from tasks import download, merge, report

from naq_core import DependencyFailedError, Queue

WAIT = 30  # seconds: every wait is bounded, so this script always ends


async def main() -> None:
    run = uuid.uuid4().hex[:8]  # the tasks keep notes per run: a new key for each run
    async with Queue("deps") as queue:
        # download a and b (in parallel), then merge, then report.
        a = await queue.enqueue(download, run, "a.csv")
        b = await queue.enqueue(download, run, "b.csv")
        merged = await queue.enqueue(merge, run, depends_on=[a, b])
        done = await queue.enqueue(report, run, depends_on=merged)
        print(f"merge is {(await queue.job_status(merged.job_id)).value} until a and b complete")
        print(await queue.fetch_job_result(done, timeout=WAIT))
        print(await queue.fetch_job_result(merged, timeout=WAIT))

        # The same chain with a download that fails: nothing after it runs.
        bad = await queue.enqueue(download, run, "missing.csv")
        merged = await queue.enqueue(merge, run, depends_on=[bad])
        done = await queue.enqueue(report, run, depends_on=merged)
        for name, job in (("merge", merged), ("report", done)):
            try:
                await queue.fetch_job_result(job, timeout=WAIT)
            except DependencyFailedError as exc:
                status = (await queue.job_status(job.job_id)).value
                print(f"{name}: {status} ({exc.error_type}: {exc.error})")
        record = await queue.job_record(bad.job_id)
        print(f"download of missing.csv: {record.status.value} ({record.error_type})")


if __name__ == "__main__":
    asyncio.run(main())
