"""A job whose workers die on it (SIGKILL by pid, twice) ends in naq_dlq as ``max deliveries``."""

from __future__ import annotations

import inspect
import os
import sys
import uuid
from pathlib import Path

from dlq_support import dlq_store, eventually, running_worker, wait_for_letters

import naq_core.worker
from naq_core import DeadLetterReason, JobStatus, Queue
from naq_core._advisories import MaxDeliveryMover
from naq_core._jetstream.names import ADVISORIES_STREAM
from naq_core.testing.process import ChildProcesses

HERE = Path(__file__).parent
WIRED = "MaxDeliveryMover" in inspect.getsource(naq_core.worker)


def _worker_argv(url: str, queue: str) -> list[str]:
    """``dlq_kill_worker.py``: a worker that takes the job and holds it until killed."""
    return [sys.executable, str(HERE / "dlq_kill_worker.py"), url, queue]


async def test_killed_workers_end_in_the_dlq_as_max_deliveries(
    nats_url: str, queue_name: str, child_processes: ChildProcesses, tmp_path: Path
) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    async with Queue(queue_name, nats_url, max_deliver=2, ack_wait=1.0) as q, dlq_store(nats_url) as store:
        conn = await q.connection()
        await conn.ensure_advisories()  # as every worker does at start
        job = await q.enqueue("dlq_tasks:block_forever", uuid.uuid4().hex)

        for attempt in (1, 2):
            worker_process = child_processes.start(_worker_argv(nats_url, queue_name), env=env, cwd=tmp_path)

            async def running(attempt: int = attempt) -> bool:
                record = await q.job_record(job.job_id)
                return record.status is JobStatus.RUNNING and record.attempt == attempt

            await eventually(running, timeout=30)
            worker_process.stop()  # dies with the job in its hands (SIGKILL)

        async with running_worker(nats_url, queue_name, max_deliver=2, ack_wait=1.0) as worker:
            mover = None
            if not WIRED:  # until worker.py starts the mover itself
                assert worker._conn is not None and worker._executor is not None
                mover = MaxDeliveryMover(worker._conn, worker._executor.dead)
                await mover.start()
            try:
                [stored] = await wait_for_letters(store, queue_name, 1, timeout=20)
            finally:
                if mover is not None:
                    await mover.stop()

        letter = stored.letter
        assert letter.reason is DeadLetterReason.MAX_DELIVERIES, [p.output for p in child_processes]
        assert stored.id == job.job_id and letter.job_id == job.job_id
        assert letter.function == "dlq_tasks:block_forever" and letter.attempts == 2
        assert letter.error_type == "MaxDeliveriesExceeded" and "max_deliver=2" in (letter.error or "")
        assert letter.subject == f"naq.queue.{queue_name}.{job.job_id}"
        record = await q.job_record(job.job_id)
        assert record.status is JobStatus.FAILED and record.error_type == "MaxDeliveriesExceeded"
        assert await q.count() == 0  # moved: gone from the work queue
        advisories = await conn.js.consumer_info(ADVISORIES_STREAM, "naq-dlq-mover")
        assert advisories.num_ack_pending == 0 and advisories.num_pending == 0
