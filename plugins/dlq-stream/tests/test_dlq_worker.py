"""A real worker hands its dead letters to naq_dlq; requeued jobs run again."""

from __future__ import annotations

import json
import uuid

import attrs
import dlq_tasks
import pytest
from dlq_support import dlq_store, eventually, running_worker, wait_for_letters

from naq_core import ConfigurationError, DeadLetterReason, Job, JobFailedError, JobStatus, Queue, load_config
from naq_dlq_stream import LetterFilter


async def test_poison_unknown_task_and_exhausted_retries_land_in_the_stream(
    nats_url: str, queue_name: str
) -> None:
    async with (
        Queue(queue_name, nats_url) as q,
        dlq_store(nats_url) as store,
        running_worker(nats_url, queue_name),
    ):
        conn = await q.connection()
        await conn.js.publish(f"naq.queue.{queue_name}.junk", b"\xff\x00 not json", headers={"X-Test": "1"})
        unknown = await q.enqueue("os:system", "rm -rf /")
        failing = await q.enqueue(dlq_tasks.fail, "bad", max_retries=1, retry_delay=0.05)
        letters = await wait_for_letters(store, queue_name, 3)

        async def empty() -> bool:
            return await q.count() == 0

        await eventually(empty)
    by_reason = {stored.letter.reason: stored for stored in letters}
    assert set(by_reason) == {
        DeadLetterReason.POISON,
        DeadLetterReason.UNKNOWN_TASK,
        DeadLetterReason.RETRIES_EXHAUSTED,
    }
    poison = by_reason[DeadLetterReason.POISON].letter
    assert poison.payload == b"\xff\x00 not json" and poison.headers == {"X-Test": "1"}
    assert poison.job_id == "junk" and poison.subject == f"naq.queue.{queue_name}.junk"
    assert poison.error_type == "SerializationError" and poison.worker_id
    stored_unknown = by_reason[DeadLetterReason.UNKNOWN_TASK]
    assert stored_unknown.id == unknown.job_id
    assert stored_unknown.letter.function == "os:system"
    assert stored_unknown.letter.error_type == "TaskNotFoundError"
    exhausted = by_reason[DeadLetterReason.RETRIES_EXHAUSTED].letter
    assert exhausted.job_id == failing.job_id and exhausted.attempts == 2 and exhausted.error == "bad"
    assert "ValueError" in (exhausted.traceback or "")
    assert exhausted.first_seen == failing.enqueued_at


async def test_requeue_runs_the_job_again_with_the_same_id(nats_url: str, queue_name: str) -> None:
    key = uuid.uuid4().hex
    async with (
        Queue(queue_name, nats_url) as q,
        dlq_store(nats_url) as store,
        running_worker(nats_url, queue_name),
    ):
        job = await q.enqueue(dlq_tasks.fail_first_time, key)
        with pytest.raises(JobFailedError, match="first call"):
            await q.fetch_job_result(job, timeout=10)
        [stored] = await wait_for_letters(store, queue_name, 1)
        assert stored.id == job.job_id and stored.letter.reason is DeadLetterReason.FAILED

        requeued = await store.requeue([job.job_id])

        assert [s.id for s in requeued] == [job.job_id]
        assert await q.fetch_job_result(job, timeout=10) == 2
        record = await q.job_record(job.job_id)
        assert record.status is JobStatus.COMPLETED and record.attempt == 1
        assert await store.list(LetterFilter(queue=queue_name)) == []


async def test_unknown_task_requeued_by_filter_runs_once_registered(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as q, dlq_store(nats_url) as store:
        async with running_worker(nats_url, queue_name, tasks=[]):  # knows no task
            jobs = [await q.enqueue(dlq_tasks.add, n, 1) for n in range(3)]
            letters = await wait_for_letters(store, queue_name, 3)
        assert {s.letter.reason for s in letters} == {DeadLetterReason.UNKNOWN_TASK}
        assert await q.job_status(jobs[0].job_id) is JobStatus.FAILED

        where = LetterFilter(queue=queue_name, reason=DeadLetterReason.UNKNOWN_TASK)
        assert len(await store.requeue(where)) == 3
        assert await q.job_status(jobs[0].job_id) is JobStatus.PENDING  # reset before it runs

        async with running_worker(nats_url, queue_name):  # now with dlq_tasks
            results = [await q.fetch_job_result(job, timeout=10) for job in jobs]
        assert results == [1, 2, 3]
        assert await store.count(LetterFilter(queue=queue_name)) == 0


async def test_requeued_poison_comes_back_as_poison(nats_url: str, queue_name: str) -> None:
    async with (
        Queue(queue_name, nats_url) as q,
        dlq_store(nats_url) as store,
        running_worker(nats_url, queue_name),
    ):
        conn = await q.connection()
        await conn.js.publish(f"naq.queue.{queue_name}.junk", b"\x00junk")
        [first] = await wait_for_letters(store, queue_name, 1)
        await store.requeue([first.id])
        [again] = await wait_for_letters(store, queue_name, 1)
    assert again.seq != first.seq and again.letter.payload == b"\x00junk"
    assert again.letter.subject == f"naq.queue.{queue_name}.junk" and again.letter.attempts == 1


@pytest.mark.parametrize("job_id", ["has space", "line\r\nbreak"])
async def test_envelope_with_an_invalid_job_id_is_a_dead_letter(
    nats_url: str, queue_name: str, job_id: str
) -> None:
    envelope = Job(function="dlq_fuzz:missing").to_envelope()
    envelope["id"] = job_id
    async with (
        Queue(queue_name, nats_url) as q,
        dlq_store(nats_url) as store,
        running_worker(nats_url, queue_name),
    ):
        conn = await q.connection()
        await conn.js.publish(f"naq.queue.{queue_name}.bad", json.dumps(envelope).encode())
        [stored] = await wait_for_letters(store, queue_name, 1, timeout=3)
    assert stored.letter.reason is DeadLetterReason.POISON


async def test_a_recurring_schedules_firing_is_requeued_under_its_own_id(
    nats_url: str, queue_name: str
) -> None:
    key = uuid.uuid4().hex
    async with (
        Queue(queue_name, nats_url) as q,
        dlq_store(nats_url) as store,
        running_worker(nats_url, queue_name),
    ):
        schedule = await q.schedule(dlq_tasks.fail_first_time, key, interval=1, repeat=1)
        [stored] = await wait_for_letters(store, queue_name, 1, timeout=15)
        firing = stored.letter.job_id
        assert firing is not None and firing.startswith(f"{schedule.schedule_id}-")
        assert await q.job_status(firing) is JobStatus.FAILED

        await store.requeue([firing])

        assert await q.fetch_job_result(firing, timeout=10) == 2


async def test_a_bad_dlq_stream_table_stops_the_worker_at_start(nats_url: str, queue_name: str) -> None:
    config = load_config(env={}, search=False, overrides={"nats_url": nats_url})
    config = attrs.evolve(config, plugins={"dlq_stream": {"max_age": "forever"}})
    with pytest.raises(ConfigurationError, match=r"dlq_stream\.max_age"):
        async with running_worker(nats_url, queue_name, config=config):
            pass
