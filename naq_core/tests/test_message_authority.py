"""A message may only act on the job its subject names (issue 10), against a real server.

The subject ``naq.queue.<queue>.<id>`` is the authority: an envelope that disagrees with
it is a poison letter of the subject's queue and id; a forged schedule firing changes no
schedule; a chosen ``job_id`` deduplicates only within its queue, and a duplicate is
reported.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
import worker_tasks
from support import ListSink, collect_dead_letters, eventually, running_worker, wait_until

from naq_core import DeadLetterReason, JobStatus, Queue


@pytest.fixture
def sink() -> ListSink:
    return collect_dead_letters()


def _envelope(job_id: str, queue: str, fn: str = "worker_tasks:add", **extra: object) -> bytes:
    env = {"v": 1, "id": job_id, "queue": queue, "fn": fn, "args": [40, 2], "kwargs": {}, "at": 1.0}
    return json.dumps({**env, **extra}).encode()


async def _exists(q: Queue, subject: str) -> bool:
    conn = await q.connection()
    info = await conn.js.stream_info("naq_jobs", subjects_filter=subject)
    return bool(info.state.subjects)


async def test_an_envelope_naming_another_queues_job_writes_nothing_for_it(
    nats_url: str, queue_name: str, sink: ListSink
) -> None:
    victim_queue = queue_name + "-victim"
    async with (
        Queue(queue_name, nats_url) as attacker,
        Queue(victim_queue, nats_url) as victim,
        running_worker(nats_url, queue_name),
    ):
        parent = await victim.enqueue(worker_tasks.add, 1, 1)  # no worker: stays pending
        child = await victim.enqueue(worker_tasks.add, 2, 2, depends_on=parent)
        conn = await attacker.connection()
        # on the attacker's own subject, an envelope naming the victim's job and queue
        await conn.js.publish(
            f"naq.queue.{queue_name}.{parent.job_id}", _envelope(parent.job_id, victim_queue)
        )
        # and one naming another id of its own queue
        await conn.js.publish(f"naq.queue.{queue_name}.decoy", _envelope(parent.job_id, queue_name))
        await wait_until(lambda: len(sink.letters) == 2, timeout=10)
        assert await victim.job_status(parent.job_id) is JobStatus.PENDING  # no record written
        assert await victim.job_status(child.job_id) is JobStatus.WAITING  # no dependent released
        assert await victim.count() == 1
        async with running_worker(nats_url, victim_queue):  # the real job still runs
            assert await victim.fetch_job_result(parent, timeout=10) == 2
            assert await victim.fetch_job_result(child, timeout=10) == 4
    by_id = {letter.job_id: letter for letter in sink.letters}
    assert set(by_id) == {parent.job_id, "decoy"}
    for letter in by_id.values():
        assert letter.reason is DeadLetterReason.POISON and letter.queue == queue_name


async def test_a_forged_firing_on_another_queue_leaves_the_schedule(
    nats_url: str, queue_name: str, sink: ListSink
) -> None:
    victim_queue = queue_name + "-victim"
    name = f"s{uuid.uuid4().hex[:8]}"
    async with (
        Queue(queue_name, nats_url) as attacker,
        Queue(victim_queue, nats_url) as victim,
        running_worker(nats_url, queue_name),
    ):
        await victim.schedule(worker_tasks.add, 1, 1, interval=3600, name=name)
        later = await victim.enqueue_at(
            dt.datetime.now(dt.UTC) + dt.timedelta(hours=1), worker_tasks.add, 1, 2
        )
        conn = await attacker.connection()
        for target in (name, later.job_id):
            headers = {"Nats-Scheduler": f"naq.sched.{victim_queue}.{target}", "Nats-Schedule-Next": "purge"}
            body = _envelope(target, victim_queue, sched=target)
            await conn.js.publish(f"naq.queue.{queue_name}.{target}", body, headers=headers)
        await wait_until(lambda: len(sink.letters) == 2, timeout=10)

        async def restored() -> bool:
            return await _exists(victim, f"naq.sched.{victim_queue}.{name}") and await _exists(
                victim, f"naq.sched.{victim_queue}.{later.job_id}"
            )

        await eventually(restored, timeout=10)  # the server purged them; the worker put them back
        assert {s.schedule_id for s in await victim.list_schedules()} == {name, later.job_id}
        assert await victim.job_status(later.job_id) is JobStatus.SCHEDULED
        await victim.cancel_scheduled_job(name)
        await victim.cancel_scheduled_job(later.job_id)
    assert {letter.reason for letter in sink.letters} == {DeadLetterReason.POISON}


async def test_a_forged_one_off_firing_on_its_own_queue_before_its_time_changes_nothing(
    nats_url: str, queue_name: str, sink: ListSink
) -> None:
    async with Queue(queue_name, nats_url) as q, running_worker(nats_url, queue_name):
        later = await q.enqueue_at(dt.datetime.now(dt.UTC) + dt.timedelta(hours=1), worker_tasks.add, 1, 2)
        conn = await q.connection()
        headers = {"Nats-Scheduler": f"naq.sched.{queue_name}.{later.job_id}", "Nats-Schedule-Next": "purge"}
        body = _envelope(later.job_id, queue_name, sched=later.job_id)
        await conn.js.publish(f"naq.queue.{queue_name}.{later.job_id}", body, headers=headers)
        await wait_until(lambda: len(sink.letters) == 1, timeout=10)

        async def restored() -> bool:
            return await _exists(q, f"naq.sched.{queue_name}.{later.job_id}")

        await eventually(restored, timeout=10)
        assert (await q.get_schedule(later.job_id)).firings == 0
        assert await q.job_status(later.job_id) is JobStatus.SCHEDULED  # it did not run
        await q.cancel_scheduled_job(later.job_id)


async def test_a_chosen_id_taken_on_another_queue_is_still_stored(nats_url: str, queue_name: str) -> None:
    job_id = f"pay-{uuid.uuid4().hex[:8]}"
    victim_queue = queue_name + "-victim"
    async with Queue(queue_name, nats_url) as attacker, Queue(victim_queue, nats_url) as victim:
        conn = await attacker.connection()
        for msg_id in (job_id, f"{victim_queue}/{job_id}"):  # the old id, and the scoped one
            await conn.js.publish(
                f"naq.queue.{queue_name}.{job_id}-{len(msg_id)}",
                _envelope(f"{job_id}-{len(msg_id)}", queue_name),
                headers={"Nats-Msg-Id": msg_id},
            )
        job = await victim.enqueue(worker_tasks.add, 1, 1, job_id=job_id)
        assert await victim.count() == 1  # stored, although the id was taken first
        assert not job.duplicate
        assert await victim.job_status(job_id) is JobStatus.PENDING
        await victim.purge()
        await attacker.purge()


async def test_a_repeated_enqueue_is_reported_as_a_duplicate(nats_url: str, queue_name: str) -> None:
    job_id = f"once-{uuid.uuid4().hex[:8]}"
    async with Queue(queue_name, nats_url) as q:
        first = await q.enqueue(worker_tasks.add, 1, 1, job_id=job_id)
        again = await q.enqueue(worker_tasks.add, 1, 1, job_id=job_id)
        assert not first.duplicate and again.duplicate and again.job_id == job_id
        assert await q.count() == 1  # stored once
        batch = await q.enqueue_many(
            [
                q.prepare(worker_tasks.add, 2, 2, job_id=job_id),
                q.prepare(worker_tasks.add, 3, 3, job_id=job_id + "b"),
            ]
        )
        assert [j.duplicate for j in batch] == [True, False]
        assert await q.count() == 2
        async with running_worker(nats_url, queue_name):
            assert await q.fetch_job_result(job_id, timeout=10) == 2
            # taken by the worker already: still a duplicate (its record names this queue)
            assert (await q.enqueue(worker_tasks.add, 1, 1, job_id=job_id)).duplicate

        async def none_left() -> bool:
            return await q.count() == 0

        await eventually(none_left, timeout=10)
