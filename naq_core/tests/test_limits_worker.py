"""Against a real server: a message with values a worker cannot run is a poison letter at
once; a job too large for the server is refused before anything is sent; a failing job too
large to record with its payload still ends exactly once (docs/security.md, "Limits")."""

from __future__ import annotations

import uuid
from functools import partial

import limits_tasks
import pytest
from support import collect_dead_letters, eventually, wait_until

from naq_core import DeadLetterReason, JobFailedError, JobNotFoundError, PayloadTooLargeError, Queue
from naq_core.testing import worker as _testing

BIG = 800_000  # bytes: fits a job message under the default 1 MB max payload, not its record


#: ``async with running_worker(url, queue, **options)`` runs ``limits_tasks``.
running_worker = partial(_testing.running_worker, tasks=("limits_tasks",))


BAD_FIELDS = {  # job id: (envelope field, what its dead letter says)
    # Numbers JSON carries that no worker can honour: refused when the envelope becomes a Job.
    "at_huge": ('"at": 1e300', "not a job envelope: ValueError: enqueued_at"),
    "retries_huge": ('"retries": 100000000000000000000', "not a job envelope: ValueError: max_retries"),
    "delay_huge": ('"retries": 1, "delay": 1e308', "not a job envelope: ValueError: retry_delay"),
    "timeout_huge": ('"timeout": 1e308', "not a job envelope: ValueError: timeout"),
    "ttl_huge": ('"ttl": 1e308', "not a job envelope: ValueError: result_ttl"),
    "jitter_huge": ('"jitter": 1e308', "not a job envelope: ValueError: retry_jitter"),
    # Non-finite ones: the JSON serializer refuses them before they are an envelope.
    "at_inf": ('"at": 1e400', "not valid JSON"),
    "delay_nan": ('"retries": 1, "delay": NaN', "not valid JSON"),
    "timeout_inf": ('"timeout": Infinity', "not valid JSON"),
}


async def test_an_envelope_with_a_bad_number_is_a_poison_letter_and_never_redelivered(
    nats_url: str, queue_name: str
) -> None:
    sink = collect_dead_letters()
    async with Queue(queue_name, nats_url) as q, running_worker(nats_url, queue_name, ack_wait=1):
        conn = await q.connection()
        for job_id, (field, _) in BAD_FIELDS.items():
            body = (
                f'{{"v": 1, "id": "{job_id}", "queue": "{queue_name}", '
                f'"fn": "limits_tasks:fail_counted", "args": ["{job_id}"], {field}}}'
            )
            await conn.js.publish(f"naq.queue.{queue_name}.{job_id}", body.encode())
        await wait_until(lambda: len(sink.letters) >= len(BAD_FIELDS), timeout=15)

        async def empty() -> bool:
            return await q.count() == 0

        await eventually(empty)
    letters = {letter.job_id: letter for letter in sink.letters}
    assert sorted(letters) == sorted(BAD_FIELDS) and len(sink.letters) == len(BAD_FIELDS)
    for job_id, letter in letters.items():
        assert letter.reason is DeadLetterReason.POISON, job_id
        assert letter.attempts == 1, job_id
        assert letter.queue == queue_name
        assert BAD_FIELDS[job_id][1] in (letter.error or ""), letter.error
    assert not any(key in limits_tasks.calls for key in BAD_FIELDS)  # none of them ran


async def test_a_job_over_the_max_payload_is_refused_naming_job_size_and_limit(
    nats_url: str, queue_name: str
) -> None:
    async with Queue(queue_name, nats_url) as q:
        limit = (await q.connection()).nc.max_payload
        with pytest.raises(PayloadTooLargeError) as raised:
            await q.enqueue("limits_tasks:fail_counted", "k", "x" * (limit + 10), job_id="too-big")
        error = raised.value
        assert error.job_id == "too-big" and error.size > limit and error.limit < limit
        assert "too-big" in str(error) and str(error.size) in str(error) and str(error.limit) in str(error)
        with pytest.raises(PayloadTooLargeError):
            await q.enqueue_in(60, "limits_tasks:fail_counted", "k", "x" * (limit + 10))
        assert await q.count() == 0


async def test_enqueue_many_with_one_oversized_item_sends_nothing(nats_url: str, queue_name: str) -> None:
    async with Queue(queue_name, nats_url) as q:
        limit = (await q.connection()).nc.max_payload
        small = q.prepare("limits_tasks:fail_counted", "small", job_id=f"small-{uuid.uuid4().hex}")
        big = q.prepare("limits_tasks:fail_counted", "big", "x" * (limit + 10), job_id="big")
        with pytest.raises(PayloadTooLargeError, match="big"):
            await q.enqueue_many([small, big])
        assert await q.count() == 0
        with pytest.raises(JobNotFoundError):
            await q.job_record(small.job_id)


async def test_a_failing_job_too_large_to_record_runs_once_and_says_its_payload_was_dropped(
    nats_url: str, queue_name: str
) -> None:
    key = f"big-{uuid.uuid4().hex}"
    async with Queue(queue_name, nats_url) as q, running_worker(nats_url, queue_name, ack_wait=1):
        job = await q.enqueue(limits_tasks.fail_counted, key, "x" * BIG, max_retries=0)
        with pytest.raises(JobFailedError):
            await q.fetch_job_result(job, timeout=15)

        async def acked() -> bool:
            return await q.count() == 0

        await eventually(acked)  # acknowledged: it can never be delivered again
        record = await q.job_record(job.job_id)
    assert limits_tasks.calls[key] == 1
    assert record.status.value == "failed" and record.error_type == "RuntimeError"
    assert record.payload is None
    assert (record.payload_dropped or "").startswith("too large (")
    assert record.to_dict()["payload_dropped"] == record.payload_dropped
