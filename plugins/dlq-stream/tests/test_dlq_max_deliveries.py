"""A job whose workers die on it (SIGKILL, twice) ends in naq_dlq as ``max deliveries``."""

from __future__ import annotations

import inspect
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from dlq_support import dlq_store, eventually, running_worker, wait_for_letters

import naq_core.worker
from naq_core import DeadLetterReason, JobStatus, Queue
from naq_core._advisories import ADVISORIES_STREAM, MaxDeliveryMover, ensure_advisory_stream

HERE = Path(__file__).parent
WIRED = "MaxDeliveryMover" in inspect.getsource(naq_core.worker)


class WorkerProcess:
    """``dlq_kill_worker.py`` as a child process; killed by its pid."""

    def __init__(self, url: str, queue: str, log: Path) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        with log.open("ab") as out:
            self.popen = subprocess.Popen(
                [sys.executable, str(HERE / "dlq_kill_worker.py"), url, queue],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

    def kill(self) -> None:
        if self.popen.poll() is None:
            os.kill(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=30)


@pytest.fixture
def processes() -> Iterator[list[WorkerProcess]]:
    started: list[WorkerProcess] = []
    try:
        yield started
    finally:
        for process in started:
            process.kill()


async def test_killed_workers_end_in_the_dlq_as_max_deliveries(
    nats_url: str, queue_name: str, processes: list[WorkerProcess], tmp_path: Path
) -> None:
    log = tmp_path / "workers.log"
    async with Queue(queue_name, nats_url, max_deliver=2, ack_wait=1.0) as q, dlq_store(nats_url) as store:
        conn = await q.connection()
        await ensure_advisory_stream(conn)  # as every worker does at start
        job = await q.enqueue("dlq_tasks:block_forever", uuid.uuid4().hex)

        for attempt in (1, 2):
            processes.append(WorkerProcess(nats_url, queue_name, log))

            async def running(attempt: int = attempt) -> bool:
                record = await q.job_record(job.job_id)
                return record.status is JobStatus.RUNNING and record.attempt == attempt

            await eventually(running, timeout=30)
            processes[-1].kill()  # dies with the job in its hands

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
        assert letter.reason is DeadLetterReason.MAX_DELIVERIES, log.read_text()
        assert stored.id == job.job_id and letter.job_id == job.job_id
        assert letter.function == "dlq_tasks:block_forever" and letter.attempts == 2
        assert letter.error_type == "MaxDeliveriesExceeded" and "max_deliver=2" in (letter.error or "")
        assert letter.subject == f"naq.queue.{queue_name}.{job.job_id}"
        record = await q.job_record(job.job_id)
        assert record.status is JobStatus.FAILED and record.error_type == "MaxDeliveriesExceeded"
        assert await q.count() == 0  # moved: gone from the work queue
        advisories = await conn.js.consumer_info(ADVISORIES_STREAM, "naq-dlq-mover")
        assert advisories.num_ack_pending == 0 and advisories.num_pending == 0
