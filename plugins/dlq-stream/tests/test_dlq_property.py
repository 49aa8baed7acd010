"""Property: junk published straight onto a queue never stops the worker and never vanishes.

Random bytes, JSON that is not a job, and job envelopes with fields replaced by random
values go onto a queue's subject; each ends in naq_dlq (matched by its original subject),
the queue drains, and a dead-lettered well-formed job that is requeued runs.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from dlq_support import dlq_store, eventually
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from naq_core import DeadLetterReason, Job, Queue, Worker
from naq_core.testing.serializer_contract import json_like_values
from naq_core.testing.worker import worker_thread

_ENVELOPE_KEYS = ["v", "id", "queue", "fn", "args", "kwargs", "at", "retries", "delay", "strategy", "timeout"]


@st.composite
def broken_envelopes(draw: st.DrawFn) -> bytes:
    """A job envelope (for a task no worker has) with some fields replaced or dropped."""
    envelope: dict[str, Any] = Job(function="dlq_fuzz:missing", args=(1, 2)).to_envelope()
    changes = draw(st.dictionaries(st.sampled_from(_ENVELOPE_KEYS), json_like_values(5), max_size=3))
    dropped = draw(st.sets(st.sampled_from(_ENVELOPE_KEYS), max_size=2))
    envelope.update(changes)
    for key in dropped:
        envelope.pop(key, None)
    return json.dumps(envelope).encode()


junk = st.one_of(
    st.binary(max_size=200),
    json_like_values(10).map(lambda value: json.dumps(value).encode()),
    broken_envelopes(),
)


@pytest.fixture
def background_worker(nats_url: str, queue_name: str) -> Iterator[Worker]:
    """A worker in a thread of its own, so each example can run its own event loop."""
    with worker_thread(nats_url, queue_name, tasks=["dlq_tasks"]) as worker:
        yield worker


async def _example(url: str, queue: str, payloads: list[bytes]) -> None:
    async with Queue(queue, url) as q, dlq_store(url) as store:
        conn = await q.connection()
        subjects = [f"naq.queue.{queue}.fuzz{uuid.uuid4().hex[:12]}" for _ in payloads]
        for subject, payload in zip(subjects, payloads, strict=True):
            await conn.js.publish(subject, payload)
        # A well-formed job that fails the first time: dead-lettered, requeued, then it runs.
        job = await q.enqueue("dlq_tasks:fail_first_time", uuid.uuid4().hex)

        async def all_dead() -> bool:
            found = await store.list(limit=None)
            seen = {stored.letter.subject for stored in found} | {stored.id for stored in found}
            return all(s in seen for s in [*subjects, job.job_id])

        await eventually(all_dead, timeout=20)
        letters = {stored.letter.subject: stored for stored in await store.list(limit=None)}
        for subject, payload in zip(subjects, payloads, strict=True):
            letter = letters[subject].letter
            assert letter.payload == payload
            assert letter.reason in (DeadLetterReason.POISON, DeadLetterReason.UNKNOWN_TASK)

        assert [s.id for s in await store.requeue([job.job_id])] == [job.job_id]
        assert await q.fetch_job_result(job, timeout=10) == 2

        async def drained() -> bool:
            return await q.count() == 0

        await eventually(drained)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(payloads=st.lists(junk, min_size=1, max_size=4))
def test_junk_ends_in_the_dlq_and_the_worker_keeps_running(
    nats_url: str, queue_name: str, background_worker: Worker, payloads: list[bytes]
) -> None:
    asyncio.run(_example(nats_url, queue_name, payloads))
    assert background_worker.status == "running"
