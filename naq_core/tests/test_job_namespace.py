"""A job is (queue, job id): a job of one queue never writes, overwrites or resolves
anything of another queue's job with the same id (issue 10), against a real server.

A producer that may publish only on queue A can still choose any job id. Records live
under ``<queue>.<job id>`` in the results bucket and dependency holds and markers name
both, so a job ``X`` run on A leaves the record, the waiters and the dependents of ``X``
on B alone. A bare id that two queues hold is refused with a clear error.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import pytest
import worker_tasks
from cli_support import invoke, isolated
from support import running_worker, wait_until

from naq_core import JobFailedError, JobStatus, Queue
from naq_core.errors import AmbiguousJobError
from naq_core.jetstream import RESULTS_BUCKET


def _envelope(
    job_id: str, queue: str, fn: str = "worker_tasks:add", args: list[object] | None = None
) -> bytes:
    env = {"v": 1, "id": job_id, "queue": queue, "fn": fn, "args": args or [40, 2], "kwargs": {}, "at": 1.0}
    return json.dumps(env).encode()


async def _publish(q: Queue, job_id: str, **options: object) -> None:
    """What a producer allowed only on ``q``'s subjects can do: publish there, any id."""
    conn = await q.connection()
    await conn.js.publish(f"naq.queue.{q.name}.{job_id}", _envelope(job_id, q.name, **options))  # type: ignore[arg-type]


async def test_a_job_on_another_queue_with_the_same_id_leaves_the_record_and_waiter_alone(
    nats_url: str, queue_name: str
) -> None:
    victim_queue = queue_name + "-victim"
    async with Queue(queue_name, nats_url) as attacker, Queue(victim_queue, nats_url) as victim:
        job = await victim.enqueue(worker_tasks.add, 1, 1)  # no worker of the victim yet
        waiter = asyncio.create_task(victim.fetch_job_result(job, timeout=30))
        async with running_worker(nats_url, queue_name):
            await _publish(attacker, job.job_id)
            assert await attacker.fetch_job_result(f"{queue_name}.{job.job_id}", timeout=10) == 42
        assert not waiter.done()  # the attacker's record woke nobody waiting on the victim's job
        assert (await victim.job_record(f"{victim_queue}.{job.job_id}")).status is JobStatus.PENDING
        async with running_worker(nats_url, victim_queue):
            assert await waiter == 2
        # both finished now: each record is its own job's, the later one overwrote nothing
        assert await victim.fetch_job_result(job, timeout=10) == 2
        assert await attacker.fetch_job_result(f"{queue_name}.{job.job_id}", timeout=10) == 42
        theirs = await attacker.job_record(f"{queue_name}.{job.job_id}")
        ours = await victim.job_record(f"{victim_queue}.{job.job_id}")
        assert (theirs.queue, theirs.result) == (queue_name, 42)
        assert (ours.queue, ours.result) == (victim_queue, 2)

        # a finished job of the victim is not overwritten by a later one on the attacker's queue
        done = await victim.enqueue(worker_tasks.add, 2, 3)
        async with running_worker(nats_url, victim_queue):
            assert await victim.fetch_job_result(done, timeout=10) == 5
        async with running_worker(nats_url, queue_name):
            await _publish(attacker, done.job_id)
            assert await attacker.fetch_job_result(f"{queue_name}.{done.job_id}", timeout=10) == 42
        assert await victim.fetch_job_result(done, timeout=10) == 5


async def test_dependents_of_a_job_are_not_resolved_by_its_namesake_on_another_queue(
    nats_url: str, queue_name: str
) -> None:
    victim_queue = queue_name + "-victim"
    key = uuid.uuid4().hex
    async with Queue(queue_name, nats_url) as attacker, Queue(victim_queue, nats_url) as victim:
        parent = await victim.enqueue(worker_tasks.add, 1, 1)  # no worker of the victim yet
        child = await victim.enqueue(worker_tasks.add, 2, 2, depends_on=parent)
        grandchild = await victim.enqueue(worker_tasks.count, key, depends_on=child)
        async with running_worker(nats_url, queue_name):
            await _publish(attacker, parent.job_id, fn="worker_tasks:fail", args=["forged"])
            with pytest.raises(JobFailedError):
                await attacker.fetch_job_result(f"{queue_name}.{parent.job_id}", timeout=10)
            await _publish(attacker, child.job_id)  # completes: must not release the grandchild
            assert await attacker.fetch_job_result(f"{queue_name}.{child.job_id}", timeout=10) == 42
        assert await victim.job_status(f"{victim_queue}.{child.job_id}") is JobStatus.WAITING
        assert await victim.job_status(f"{victim_queue}.{grandchild.job_id}") is JobStatus.WAITING
        async with running_worker(nats_url, victim_queue):  # the real parent releases them
            assert await victim.fetch_job_result(child, timeout=15) == 4
            assert await victim.fetch_job_result(grandchild, timeout=15) == 1
        assert worker_tasks.calls[key] == 1


async def test_a_bare_id_two_queues_hold_is_refused_and_a_qualified_one_is_exact(
    nats_url: str, queue_name: str
) -> None:
    other = queue_name + "-other"
    third = queue_name + "-third"
    async with (
        Queue(queue_name, nats_url) as q,
        Queue(other, nats_url) as o,
        Queue(third, nats_url) as t,
        running_worker(nats_url, [queue_name, other, third]),
    ):
        job = await q.enqueue(worker_tasks.add, 1, 1, job_id=f"same-{uuid.uuid4().hex[:8]}")
        twin = await o.enqueue(worker_tasks.add, 2, 2, job_id=job.job_id)
        assert await q.fetch_job_result(job, timeout=10) == 2
        assert await o.fetch_job_result(twin, timeout=10) == 4
        bare = job.job_id
        for lookup in (q.fetch_job_result(bare, timeout=5), q.job_record(bare), q.job_status(bare)):
            with pytest.raises(AmbiguousJobError) as caught:
                await lookup
            assert queue_name in str(caught.value) and other in str(caught.value)
        assert await q.fetch_job_result(f"{other}.{job.job_id}", timeout=5) == 4
        assert (await q.job_record(f"{queue_name}.{job.job_id}")).result == 2
        # depends_on by bare id: the dependent's own queue first ...
        mine = await o.enqueue(worker_tasks.add, 3, 3, depends_on=job.job_id)
        assert await o.fetch_job_result(mine, timeout=10) == 6
        # ... else a unique match, and two matches are refused
        with pytest.raises(AmbiguousJobError):
            await t.enqueue(worker_tasks.add, 3, 3, depends_on=job.job_id)
        exact = await t.enqueue(worker_tasks.add, 4, 4, depends_on=f"{other}.{job.job_id}")
        assert await t.fetch_job_result(exact, timeout=10) == 8


async def test_a_unique_bare_id_and_an_older_record_are_still_found(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as q, running_worker(nats_url, queue_name):
        job = await q.enqueue(worker_tasks.add, 5, 6)
        assert await q.fetch_job_result(job.job_id, timeout=10) == 11
        assert await q.job_status(job.job_id) is JobStatus.COMPLETED
        assert (await q.job_record(job.job_id)).queue == queue_name
        # a record written by an older naq, under the bare id
        old_id = f"old-{uuid.uuid4().hex[:8]}"
        conn = await q.connection()
        kv = await conn.js.key_value(RESULTS_BUCKET)
        old = {"job_id": old_id, "status": "completed", "queue": queue_name, "result": 7}
        await kv.put(old_id, json.dumps(old).encode())
        assert await q.fetch_job_result(old_id, timeout=5) == 7
        assert (await q.job_record(old_id)).result == 7


def test_naq_job_show_finds_a_job_by_its_bare_id_and_by_queue_and_id(
    nats_url: str, queue_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def run_one() -> str:
        async with Queue(queue_name, nats_url) as q, running_worker(nats_url, queue_name):
            job = await q.enqueue(worker_tasks.add, 20, 22)
            assert await q.fetch_job_result(job, timeout=10) == 42
            return job.job_id

    job_id = asyncio.run(run_one())
    with isolated(tmp_path, monkeypatch):
        for ref in (job_id, f"{queue_name}.{job_id}"):
            shown = invoke("--nats-url", nats_url, "job", "show", ref, "--json")
            assert shown.exit_code == 0, shown.output
            record = json.loads(shown.stdout)
            assert (record["job_id"], record["queue"], record["result"]) == (job_id, queue_name, 42)


async def test_a_bare_id_finished_on_one_queue_and_queued_on_another_is_refused(
    nats_url: str, queue_name: str
) -> None:
    idle = queue_name + "-idle"  # no worker: its job stays queued
    async with Queue(queue_name, nats_url) as q, Queue(idle, nats_url) as i:
        async with running_worker(nats_url, queue_name):
            done = await q.enqueue(worker_tasks.add, 1, 2, job_id=f"both-{uuid.uuid4().hex[:8]}")
            assert await q.fetch_job_result(done, timeout=10) == 3
        queued = await i.enqueue(worker_tasks.add, 5, 5, job_id=done.job_id)
        for lookup in (q.job_record(done.job_id), q.cancel_job(done.job_id), q.fetch_job_result(done.job_id)):
            with pytest.raises(AmbiguousJobError):
                await lookup
        assert await i.job_status(queued) is JobStatus.PENDING  # the refused cancel took nothing
        assert await i.cancel_job(f"{idle}.{done.job_id}") is JobStatus.CANCELLED
        assert await i.job_status(queued) is JobStatus.CANCELLED
        assert (await q.job_record(done)).result == 3  # the other queue's job is unchanged
        assert await i.count() == 0


async def test_one_worker_runs_namesakes_of_two_queues_at_once_and_cancels_only_the_named_one(
    nats_url: str, queue_name: str
) -> None:
    """The worker's table of running jobs is keyed by (queue, id): both namesakes are seen
    running, a cancel that names a queue reaches only that queue's job, and a bare id that
    runs for two queues here is not guessed."""
    other = queue_name + "-other"
    job_id, keep, drop = uuid.uuid4().hex, uuid.uuid4().hex, uuid.uuid4().hex
    async with (
        Queue(queue_name, nats_url) as q,
        Queue(other, nats_url) as o,
        running_worker(nats_url, [queue_name, other]) as worker,
    ):
        kept = await q.enqueue(worker_tasks.wait_for_gate, keep, job_id=job_id)
        dropped = await o.enqueue(worker_tasks.wait_for_gate, drop, job_id=job_id)
        await wait_until(lambda: len(worker.running_jobs) == 2, timeout=10)
        assert worker.running_jobs == [job_id, job_id] and worker.snapshot()["active_jobs"] == 2
        with pytest.raises(AmbiguousJobError):
            await q.cancel_job(job_id)
        assert await o.cancel_job(f"{other}.{job_id}") is JobStatus.CANCELLED
        assert await o.job_status(dropped) is JobStatus.CANCELLED
        assert worker.running_jobs == [job_id]  # the namesake on the other queue runs on
        worker_tasks.gate(keep).set()
        assert await q.fetch_job_result(kept, timeout=10) == keep
        assert worker.running_jobs == []
