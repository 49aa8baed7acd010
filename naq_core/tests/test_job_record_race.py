"""``Queue.job_record`` while a worker ends the job: found, never "no job".

``job_record`` looks at the record, then the dependency hold, then the jobs stream. A
worker (or the max-deliveries mover) writes the record and only then removes the message:
if both happen between the first and the last look, the job is in neither place the
lookup saw. The interleaving is made exact here: the job ends while the hold is read.
"""

from __future__ import annotations

from typing import Any

import pytest
import worker_tasks

from naq_core import JobNotFoundError, JobStatus, Queue, _deps
from naq_core.jetstream import JOBS_STREAM, job_filter
from naq_core.results import ResultStore


async def test_a_job_that_ends_during_the_lookup_is_found(
    nats_url: str, queue_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with Queue(queue_name, nats_url) as q:
        job = await q.enqueue(worker_tasks.add, 1, 2)
        conn = await q.connection()
        is_waiting = _deps.is_waiting

        async def the_job_ends_meanwhile(c: Any, job_id: str, queue: str | None = None) -> bool:
            # as the mover does: the record first, then the message leaves the stream
            await ResultStore(conn).write(job, JobStatus.FAILED, error_type="Boom", confirm=True)
            await conn.js.purge_stream(JOBS_STREAM, subject=job_filter(job_id))
            return await is_waiting(c, job_id, queue)

        monkeypatch.setattr(_deps, "is_waiting", the_job_ends_meanwhile)
        record = await q.job_record(job.job_id)
        assert (record.status, record.error_type) == (JobStatus.FAILED, "Boom")
        monkeypatch.undo()
        with pytest.raises(JobNotFoundError):  # an id that is nowhere is still not found
            await q.job_record("0" * 32)
