"""MaxDeliveryMover: JetStream's MAX_DELIVERIES advisories become dead letters.

The deliveries are made by the test itself (a pull subscription that never acks), which is
what a worker that dies with the job in its hands looks like to JetStream.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

from structlog.testing import capture_logs
from support import eventually

from naq_core import DeadLetter, DeadLetterReason, Job, JobStatus, load_config
from naq_core._advisories import MaxDeliveryMover
from naq_core._dead import DeadLetterRouter
from naq_core._jetstream.names import ADVISORIES_STREAM, MOVER_CONSUMER
from naq_core.jetstream import JOBS_STREAM, Connection, connect, job_subject
from naq_core.results import ResultStore


class ListSink:
    name = "list"

    def __init__(self) -> None:
        self.letters: list[DeadLetter] = []
        self.broken = False
        self.refused = 0

    async def store(self, letter: DeadLetter) -> None:
        if self.broken:
            self.refused += 1
            raise OSError("disk full")
        self.letters.append(letter)


@contextlib.asynccontextmanager
async def connection(url: str) -> AsyncIterator[Connection]:
    conn = await connect(load_config(overrides={"nats_url": url, "max_deliver": 2, "ack_wait": 1.0}, env={}))
    try:
        await conn.ensure_stream()
        yield conn
    finally:
        await conn.close()


async def exhaust(
    conn: Connection, queue: str, payloads: list[bytes], ids: tuple[str, ...] = ()
) -> list[int]:
    """Publish ``payloads`` (the first ones under ``ids``, the subject naming the job's id),
    take each twice without acking, then pull once more: JetStream gives up on them and
    emits the advisories. Returns the stream sequences."""
    durable = await conn.ensure_consumer(queue)
    names = [*ids, *(uuid.uuid4().hex for _ in payloads[len(ids) :])]
    seqs = [
        (await conn.js.publish(job_subject(queue, n), p)).seq for n, p in zip(names, payloads, strict=True)
    ]
    sub = await conn.js.pull_subscribe_bind(durable, stream=JOBS_STREAM)
    try:
        delivered = 0
        async with asyncio.timeout(15):
            while delivered < 2 * len(payloads):
                with contextlib.suppress(TimeoutError):
                    delivered += len(await sub.fetch(2 * len(payloads), timeout=2))
        with contextlib.suppress(TimeoutError):
            await sub.fetch(1, timeout=1.5)  # the pending pull that makes JetStream give up
    finally:
        await sub.unsubscribe()
    return seqs


async def advisories_settled(conn: Connection) -> bool:
    info = await conn.js.consumer_info(ADVISORIES_STREAM, MOVER_CONSUMER)
    return bool(info.num_ack_pending == 0 and info.num_pending == 0)


async def test_jobs_and_poison_hitting_max_deliver_are_moved(nats_url: str, queue_name: str) -> None:
    sink = ListSink()
    job = Job(function="m:f", args=(1,), queue_name=queue_name)
    async with connection(nats_url) as conn:
        mover = MaxDeliveryMover(conn, DeadLetterRouter([sink], "mover-test"), fetch_timeout=1.0)
        await mover.start()
        try:
            payloads = [conn.serializer.dumps(job.to_envelope()), b"\xff junk"]
            await exhaust(conn, queue_name, payloads, ids=(job.job_id,))
            await eventually(lambda: _true(len(sink.letters) == 2), timeout=15)
            await eventually(lambda: advisories_settled(conn))
        finally:
            await mover.stop()
        info = await conn.js.stream_info(JOBS_STREAM, subjects_filter=f"naq.queue.{queue_name}.*")
        assert info.state.subjects in (None, {})  # both deleted from the work queue
        record = await ResultStore(conn).get(job.job_id)
    assert record is not None and record.status is JobStatus.FAILED
    assert record.error_type == "MaxDeliveriesExceeded"
    by_payload = {letter.payload: letter for letter in sink.letters}
    moved = by_payload[b"\xff junk"]
    assert moved.reason is DeadLetterReason.MAX_DELIVERIES and moved.job_id is None
    assert moved.queue == queue_name and moved.attempts == 2 and moved.worker_id == "mover-test"
    letter = next(letter for letter in sink.letters if letter.job_id == job.job_id)
    assert letter.function == "m:f" and letter.first_seen == job.enqueued_at
    assert letter.error_type == "MaxDeliveriesExceeded" and "max_deliver=2" in (letter.error or "")
    assert (letter.subject or "").startswith(f"naq.queue.{queue_name}.")
    assert mover.moved == 2


async def _true(value: bool) -> bool:
    return value


async def test_a_failing_sink_keeps_the_message_until_it_works(nats_url: str, queue_name: str) -> None:
    sink = ListSink()
    sink.broken = True
    async with connection(nats_url) as conn:
        mover = MaxDeliveryMover(conn, DeadLetterRouter([sink], "w"), fetch_timeout=1.0, retry_delay=0.3)
        await mover.start()
        try:
            [seq] = await exhaust(conn, queue_name, [b"payload"])
            await eventually(lambda: _true(sink.refused >= 1), timeout=15)  # handled and refused
            assert (await conn.js.get_msg(JOBS_STREAM, seq)).data == b"payload"  # still there
            sink.broken = False
            await eventually(lambda: _true(len(sink.letters) == 1), timeout=15)
            await eventually(lambda: advisories_settled(conn))
        finally:
            await mover.stop()


async def test_without_sinks_the_message_is_logged_and_removed(nats_url: str, queue_name: str) -> None:
    async with connection(nats_url) as conn:
        [gone, _logged] = await exhaust(conn, queue_name, [b"gone already", b"logged"])
        await conn.js.delete_msg(JOBS_STREAM, gone)  # purged before the mover saw it
        mover = MaxDeliveryMover(conn, DeadLetterRouter([], "w"), fetch_timeout=1.0)
        with capture_logs() as logs:
            await mover.start()
            try:
                await eventually(lambda: advisories_settled(conn))
            finally:
                await mover.stop()
        info = await conn.js.stream_info(JOBS_STREAM, subjects_filter=f"naq.queue.{queue_name}.*")
        assert info.state.subjects in (None, {})
    dropped = [e for e in logs if e["event"] == "dead_letter_dropped" and e["queue"] == queue_name]
    assert [e["payload"] for e in dropped] == ["logged"] and dropped[0]["reason"] == "max deliveries"
    assert mover.moved == 1
