"""The least-privilege NATS permissions of docs/security.md, run role by role.

The server's configuration is the ``conf`` block of the "Permissions (least privilege)"
section of docs/security.md, read from the page itself: what is documented is what is
tested. An admin (no permissions block) creates the streams, consumers and buckets once;
then a producer, a worker and an observer each do their work, and whatever their role does
not allow is refused with one NaqError naming the subject. One private server on 127.0.0.1
for this module, stopped by its pid.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import worker_tasks
from click.testing import CliRunner, Result
from support import eventually, running_worker

from naq_core import JobFailedError, JobNotFoundError, JobStatus, NaqError, Queue
from naq_core.cli import cli
from naq_core.jetstream import JOBS_STREAM, consumer_name
from naq_core.server import EmbeddedServer
from naq_core.testing.fixtures import start_test_server
from naq_core.testing.permissions import PASSWORDS, documented_config

DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"
ADMIN: dict[str, Any] = {"user": "naq-admin", "password": "admin-pw"}
PRODUCER: dict[str, Any] = {"user": "emails-producer", "password": "producer-pw"}
WORKER: dict[str, Any] = {"user": "emails-worker", "password": "worker-pw"}
OBSERVER: dict[str, Any] = {"user": "observer", "password": "observer-pw"}
#: The queue the producer and worker roles are for, and one they are not.
OWN, OTHER = "emails", "billing"
REFUSED = "NATS permissions refused this user to"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    with pytest.MonkeyPatch.context() as mp:
        for name, value in PASSWORDS.items():
            mp.setenv(name, value)  # the documented config reads the passwords from the environment
        started = start_test_server(tmp_path_factory.mktemp("perms"), extra_config=documented_config(DOC))
    try:
        asyncio.run(_provision(started.url))
        yield started
    finally:
        started.stop()


async def _provision(url: str) -> None:
    """The admin's one-time step (as documented): a worker of both queues, then listing the
    schedules (which creates the schedules bucket)."""
    async with running_worker(url, [OWN, OTHER], **ADMIN):
        pass
    async with Queue(OWN, url, **ADMIN) as admin:
        assert await admin.list_schedules(all_queues=True) == []


@pytest.fixture(autouse=True)
def empty_queues(server: EmbeddedServer) -> Iterator[None]:
    """Every test starts and ends with both queues empty (the admin purges them)."""

    async def purge() -> None:
        for name in (OWN, OTHER):
            async with Queue(name, server.url, **ADMIN) as admin:
                await admin.purge()

    asyncio.run(purge())
    yield
    asyncio.run(purge())


def naq(url: str, who: dict[str, Any], *args: str) -> Result:
    env = {"NAQ_NATS_URL": url, "NAQ_USER": who["user"], "NAQ_PASSWORD": who["password"]}
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_the_doc_defines_the_three_roles() -> None:
    config = documented_config(DOC)
    for role in ("PRODUCER", "WORKER", "OBSERVER"):
        assert f"permissions: ${role}" in config


async def test_worker_runs_the_producers_jobs(server: EmbeddedServer) -> None:
    async with Queue(OWN, server.url, **PRODUCER) as q:
        done = await q.enqueue(worker_tasks.add, 20, 22)
        failed = await q.enqueue(worker_tasks.fail, "boom")
        with pytest.raises(TimeoutError):  # no worker yet
            await q.fetch_job_result(done, timeout=0.2)
        # an unknown id is looked for everywhere: queued, dependencies, schedules
        with pytest.raises(JobNotFoundError):
            await q.fetch_job_result("no-such-job", timeout=5)
        async with running_worker(server.url, OWN, **WORKER):
            assert await q.fetch_job_result(done, timeout=15) == 42
            with pytest.raises(JobFailedError, match="boom"):
                await q.fetch_job_result(failed, timeout=15)
        assert (await q.job_record(done.job_id)).status is JobStatus.COMPLETED


async def test_producer_cannot_enqueue_on_another_queue(server: EmbeddedServer) -> None:
    async with Queue(OTHER, server.url, **PRODUCER) as q:
        with pytest.raises(NaqError, match=rf"{REFUSED} publish 'naq\.queue\.{OTHER}\."):
            await q.enqueue(worker_tasks.add, 1, 2)
    async with Queue(OTHER, server.url, **ADMIN) as admin:
        assert await admin.count() == 0


async def test_producer_cannot_purge(server: EmbeddedServer) -> None:
    async with Queue(OWN, server.url, **PRODUCER) as q:
        job = await q.enqueue(worker_tasks.add, 1, 2)
        with pytest.raises(NaqError, match=rf"{REFUSED} publish '\$JS\.API\.STREAM\.PURGE\.naq_jobs'"):
            await q.purge()
        assert (await q.job_record(job.job_id)).status is JobStatus.PENDING
    async with Queue(OWN, server.url, **ADMIN) as admin:
        assert await admin.count() == 1


async def test_producer_cannot_consume(server: EmbeddedServer) -> None:
    with pytest.raises(NaqError, match=rf"{REFUSED} publish '\$JS\.API\."):
        async with running_worker(server.url, OWN, **PRODUCER):
            pass
    async with Queue(OWN, server.url, **PRODUCER) as q:
        conn = await q.connection()
        pull = f"$JS.API.CONSUMER.MSG.NEXT.{JOBS_STREAM}.{consumer_name(OWN)}"
        with pytest.raises(NaqError, match=rf"{REFUSED} publish '{re.escape(pull)}'"):
            await conn.nc.request(pull, b'{"batch": 1}', timeout=10)


async def test_producer_cannot_touch_another_queues_records(server: EmbeddedServer) -> None:
    async with Queue(OTHER, server.url, **ADMIN) as admin:
        job = await admin.enqueue(worker_tasks.add, 1, 2)
        async with Queue(OTHER, server.url, **PRODUCER) as q:
            with pytest.raises(NaqError, match=REFUSED):
                await q.cancel_job(job.job_id)
        assert (await admin.job_record(job.job_id)).status is JobStatus.PENDING


async def test_observer_lists_queues_workers_and_jobs(server: EmbeddedServer) -> None:
    async with (
        Queue(OWN, server.url, **PRODUCER) as q,
        running_worker(server.url, OWN, worker_name="perm-observed", **WORKER),
    ):
        job = await q.enqueue(worker_tasks.add, 2, 3)
        assert await q.fetch_job_result(job, timeout=15) == 5
        # one at a time: CliRunner swaps the process's stdout
        queues = await asyncio.to_thread(naq, server.url, OBSERVER, "queues")
        workers = await asyncio.to_thread(naq, server.url, OBSERVER, "workers")
        show = await asyncio.to_thread(naq, server.url, OBSERVER, "job", "show", job.job_id)
    assert queues.exit_code == 0, queues.output
    assert re.search(rf"^{OWN}\s", queues.stdout, flags=re.MULTILINE)
    assert workers.exit_code == 0, workers.output
    assert "perm-observed" in workers.stdout, workers.output
    assert show.exit_code == 0, show.output
    assert re.search(r"^status:\s+completed$", show.stdout, flags=re.MULTILINE)
    async with Queue(OWN, server.url, **PRODUCER) as q:
        pending = await q.enqueue(worker_tasks.add, 2, 3)
    shown = await asyncio.to_thread(naq, server.url, OBSERVER, "job", "show", pending.job_id)
    assert shown.exit_code == 0, shown.output
    assert re.search(r"^status:\s+pending$", shown.stdout, flags=re.MULTILINE)


async def test_observer_cannot_change_anything(server: EmbeddedServer) -> None:
    async with Queue(OWN, server.url, **ADMIN) as admin:
        job = await admin.enqueue(worker_tasks.add, 1, 2)
        async with Queue(OWN, server.url, **OBSERVER) as q:
            with pytest.raises(NaqError, match=rf"{REFUSED} publish 'naq\.queue\.{OWN}\."):
                await q.enqueue(worker_tasks.add, 1, 2)
            with pytest.raises(NaqError, match=rf"{REFUSED} publish '\$JS\.API\.STREAM\.PURGE\.naq_jobs'"):
                await q.purge()
            with pytest.raises(NaqError, match=REFUSED):
                await q.cancel_job(job.job_id)
        purge = await asyncio.to_thread(naq, server.url, OBSERVER, "purge", OWN, "--force")
        assert purge.exit_code != 0
        assert REFUSED in purge.stderr and "Traceback" not in purge.output
        assert (await admin.job_record(job.job_id)).status is JobStatus.PENDING
        assert await admin.count() == 1


async def test_worker_moves_a_job_that_ran_out_of_deliveries(server: EmbeddedServer) -> None:
    # the admin takes the job and gives it back until JetStream gives up on it (max_deliver)
    async with Queue(OWN, server.url, **ADMIN) as admin:
        job = await admin.enqueue(worker_tasks.add, 1, 2)
        conn = await admin.connection()
        info = await conn.js.consumer_info(JOBS_STREAM, consumer_name(OWN))
        sub = await conn.js.pull_subscribe_bind(consumer_name(OWN), stream=JOBS_STREAM)
        try:
            for _ in range(info.config.max_deliver or 0):
                [msg] = await sub.fetch(1, timeout=10)
                await msg.nak()
        finally:
            await sub.unsubscribe()
        # the worker's pending pull makes JetStream emit the advisory; its mover files the job
        async with running_worker(server.url, OWN, **WORKER):
            await eventually(lambda: _failed(admin, job.job_id), timeout=20)
        record = await admin.job_record(job.job_id)
        assert record.error_type == "MaxDeliveriesExceeded"
        assert await admin.count() == 0  # deleted from the work queue by the worker


async def _failed(q: Queue, job_id: str) -> bool:
    return (await q.job_record(job_id)).status is JobStatus.FAILED


async def test_worker_cannot_change_its_consumer(server: EmbeddedServer) -> None:
    # other limits than the admin's would update the consumer: only the admin may
    with pytest.raises(
        NaqError,
        match=rf"{REFUSED} publish '\$JS\.API\.CONSUMER\.DURABLE\.CREATE\.naq_jobs\.naq-worker-{OWN}'",
    ):
        async with running_worker(server.url, OWN, max_deliver=7, **WORKER):
            pass
