"""Jobs that cannot run reach every dead-letter sink (a throwaway one here)."""

from __future__ import annotations

import pytest
import worker_tasks
from support import ListSink, collect_dead_letters, eventually, running_worker, wait_until

from naq_core import DeadLetter, DeadLetterReason, JobFailedError, Queue, hookimpl
from naq_core.jetstream import JOBS_STREAM
from naq_core.plugins import get_hooks


@pytest.fixture
def sink() -> ListSink:
    return collect_dead_letters()


async def test_poison_payload_reaches_the_sink_with_its_bytes(
    nats_url: str, queue_name: str, sink: ListSink
) -> None:
    async with Queue(queue_name, nats_url) as q, running_worker(nats_url, queue_name):
        conn = await q.connection()
        await conn.js.publish(f"naq.queue.{queue_name}.junk", b"\xff\x00 not json", headers={"X-Test": "1"})
        await conn.js.publish(f"naq.queue.{queue_name}.list", b"[1, 2, 3]")
        await wait_until(lambda: len(sink.letters) == 2, timeout=10)

        async def empty() -> bool:
            return await q.count() == 0

        await eventually(empty)
    by_payload = {letter.payload: letter for letter in sink.letters}
    junk = by_payload[b"\xff\x00 not json"]
    assert junk.reason is DeadLetterReason.POISON
    assert junk.headers.get("X-Test") == "1"
    assert junk.queue == queue_name and junk.attempts == 1 and junk.worker_id
    assert "not a job" in (by_payload[b"[1, 2, 3]"].error or "")


async def test_unknown_task_and_exhausted_retries_reach_the_sink(
    nats_url: str, queue_name: str, sink: ListSink
) -> None:
    async with Queue(queue_name, nats_url) as q, running_worker(nats_url, queue_name):
        unknown = await q.enqueue("os:system", "rm -rf /")
        failing = await q.enqueue(worker_tasks.fail, "bad", max_retries=1, retry_delay=0.05)
        for job in (unknown, failing):
            with pytest.raises(JobFailedError):
                await q.fetch_job_result(job, timeout=10)
        await wait_until(lambda: len(sink.letters) == 2, timeout=10)
    letters = {letter.job_id: letter for letter in sink.letters}
    assert letters[unknown.job_id].reason is DeadLetterReason.UNKNOWN_TASK
    assert letters[unknown.job_id].function == "os:system"
    exhausted = letters[failing.job_id]
    assert exhausted.reason is DeadLetterReason.RETRIES_EXHAUSTED
    assert (
        exhausted.attempts == 2 and exhausted.error == "bad" and "ValueError" in (exhausted.traceback or "")
    )
    assert exhausted.first_seen is not None and exhausted.last_seen >= exhausted.first_seen


async def test_without_a_sink_the_message_is_terminated_not_redelivered(
    nats_url: str, queue_name: str
) -> None:
    async with Queue(queue_name, nats_url) as q, running_worker(nats_url, queue_name, ack_wait=1.0):
        conn = await q.connection()
        await conn.js.publish(f"naq.queue.{queue_name}.junk", b"garbage")

        async def settled() -> bool:
            info = await conn.js.consumer_info(JOBS_STREAM, f"naq-worker-{queue_name}")
            return bool(
                info.delivered.consumer_seq == 1 and info.num_ack_pending == 0 and info.num_pending == 0
            )

        await eventually(settled)
        # terminated, not left to ack_wait: the message is gone from the stream, so nothing
        # can come back
        stream = await conn.js.stream_info(JOBS_STREAM, subjects_filter=f"naq.queue.{queue_name}.>")
        assert not stream.state.subjects
        info = await conn.js.consumer_info(JOBS_STREAM, f"naq-worker-{queue_name}")
        assert info.num_redelivered == 0


async def test_a_failing_sink_keeps_the_message(nats_url: str, queue_name: str) -> None:
    class BrokenSink:
        name = "broken"
        calls = 0

        async def store(self, letter: DeadLetter) -> None:
            BrokenSink.calls += 1
            raise OSError("disk full")

    class Plugin:
        @hookimpl
        def naq_register_dead_letter_sinks(self, register: object) -> None:
            register(BrokenSink())  # type: ignore[operator]

    get_hooks().pm.register(Plugin())
    async with Queue(queue_name, nats_url) as q, running_worker(nats_url, queue_name):
        conn = await q.connection()
        await conn.js.publish(f"naq.queue.{queue_name}.junk", b"garbage")
        await wait_until(lambda: BrokenSink.calls >= 1, timeout=10)
        info = await conn.js.consumer_info(JOBS_STREAM, f"naq-worker-{queue_name}")
        assert info.num_ack_pending + info.num_pending == 1  # still there, NAKed for later
