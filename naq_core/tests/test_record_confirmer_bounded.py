"""The records a worker waits on are bounded: a reply that never comes is forgotten.

Before: a record whose store reply never arrived (lost in a reconnect, or dropped by a
server) kept its entry in ``RecordConfirmer`` for the life of the worker, with its encoded
record, its headers and the job message held by its ack, so each lost reply grew the
worker for ever. Its job was delivered again after ``ack_wait`` all the same.
"""

from __future__ import annotations

import asyncio
import uuid

import nats
import pytest
import worker_tasks
from support import running_worker

from naq_core._jetstream import confirm
from naq_core._jetstream.confirm import RecordConfirmer
from naq_core.queue import Queue

N = 50


class _JobMessage:
    """Stands for a finished job's message: records its ack and its in_progress signs."""

    def __init__(self) -> None:
        self.acked: list[str] = []
        self.signs: list[str] = []

    async def ack(self) -> None:
        self.acked.append("ack")

    async def in_progress(self) -> None:
        self.signs.append("+WPI")


async def test_records_never_answered_are_forgotten(nats_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Published to a subject whose only subscriber never replies: no reply ever comes."""
    monkeypatch.setattr(confirm, "FORGET_AFTER", 0.05, raising=False)
    subject = f"t.silent.{uuid.uuid4().hex[:8]}"
    nc = await nats.connect(nats_url)
    try:
        silent = await nc.subscribe(subject)  # interest, so no 503 "no responders" either
        acked: list[int] = []
        confirmer = RecordConfirmer(nc)

        async def then() -> None:
            acked.append(1)

        for _ in range(N):
            await confirmer.publish(subject, b"{}", {"Nats-TTL": "60s"}, then)
        await nc.flush()
        assert confirmer.pending == N
        for _ in range(N):  # each received: none answered
            await silent.next_msg(timeout=10)
        await asyncio.sleep(0.1)  # let them age past FORGET_AFTER (no time is asserted)
        await confirmer.publish(subject, b"{}", {"Nats-TTL": "60s"}, then)
        assert confirmer.pending == 1  # the N unanswered ones forgotten, the new one waits
        assert acked == []  # nothing acked without its record stored
    finally:
        await nc.close()


async def test_after_a_drain_the_worker_waits_on_no_record(nats_url: str, queue_name: str) -> None:
    """The per-job structures of a worker are empty once its jobs are done."""
    async with Queue(queue_name, nats_url) as q:
        jobs = await q.enqueue_many([(worker_tasks.add, (i, 1), {}) for i in range(2000)])
        async with running_worker(nats_url, queue_name) as worker:
            assert await q.fetch_job_result(jobs[-1], timeout=60) == 2000
            runner = worker._runner
            assert runner is not None
            conn = runner.conn
            for _ in range(500):  # bounded: the last acks follow their replies
                if conn.confirmer.pending == 0 and not runner.held:
                    break
                await asyncio.sleep(0.01)
            assert conn.confirmer.pending == 0
            assert not runner.held and not runner.running
            assert len(runner.deps._recent) <= 10_000


async def test_a_job_awaiting_its_record_keeps_telling_jetstream_it_is_alive(nats_url: str) -> None:
    """While a record is sent again because its stream has no leader (the server answers
    503; a results-leader election takes seconds, longer than ack_wait), the job's message
    gets in_progress signs like a running job, so JetStream does not hand the finished job
    to another worker; once the record is stored they stop."""
    subject = f"t.election.{uuid.uuid4().hex[:8]}"
    nc = await nats.connect(nats_url)
    try:
        confirmer = RecordConfirmer(nc)
        job = _JobMessage()
        then, alive, acked, signs = job.ack, job.in_progress, job.acked, job.signs

        # No subscriber yet on ``subject``: the server answers 503, the record is sent again.
        await confirmer.publish(subject, b"{}", {"Nats-TTL": "60s"}, then, keepalive=alive)
        async with asyncio.timeout(10):
            while await confirmer.keep_alive(every=0.0) == 0:  # due once it is retried
                await asyncio.sleep(0.05)
        assert signs and set(signs) == {"+WPI"}
        assert await confirmer.keep_alive(every=3600.0) == 0  # signed just now: not due
        store = await nc.subscribe(subject)  # the new leader: the next retry is stored
        retried = await store.next_msg(timeout=10)
        await retried.respond(b'{"stream":"KV_x","seq":1}')
        async with asyncio.timeout(10):
            while acked != ["ack"]:
                await asyncio.sleep(0.01)
        signed = len(signs)
        assert await confirmer.keep_alive(every=0.0) == 0
        assert len(signs) == signed
    finally:
        await nc.close()


async def test_a_record_that_gets_no_answer_is_sent_again_and_its_job_kept(nats_url: str) -> None:
    """A record sent to a results leader that died gets no answer at all (neither a store
    nor a 503). Before, its job got no signs and ran again after ack_wait although it had
    finished (most duplicates of a results-leader kill). Now the sweep publishes it again
    after RESEND_AFTER (min with the sign interval) and signs its job like a 503's."""
    subject = f"t.silent.{uuid.uuid4().hex[:8]}"
    nc = await nats.connect(nats_url)
    try:
        leader = await nc.subscribe(subject)  # receives; answers only when the test says so
        confirmer = RecordConfirmer(nc)
        job = _JobMessage()
        then, alive, acked, signs = job.ack, job.in_progress, job.acked, job.signs

        await confirmer.publish(subject, b"rec", {"Nats-TTL": "60s"}, then, keepalive=alive)
        first = await leader.next_msg(timeout=10)  # the old leader took it and died
        assert await confirmer.keep_alive(every=3600.0) == 0  # not silent for RESEND_AFTER yet
        async with asyncio.timeout(10):
            while not signs:
                await confirmer.keep_alive(every=0.0)
                await asyncio.sleep(0.05)
        again = await leader.next_msg(timeout=10)  # published again, same record
        assert (again.data, again.headers) == (first.data, first.headers)
        assert acked == []
        await again.respond(b'{"stream":"KV_x","seq":2}')  # the new leader stores it
        async with asyncio.timeout(10):
            while acked != ["ack"]:
                await asyncio.sleep(0.01)
        assert confirmer.pending == 0
        await first.respond(b'{"stream":"KV_x","seq":1}')  # a late answer to the first send
        await nc.flush()
        assert acked == ["ack"]  # acked once
    finally:
        await nc.close()


async def test_a_record_never_answered_is_given_up_after_retry_for(
    nats_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(confirm, "RETRY_FOR", 0.3)
    subject = f"t.silent.{uuid.uuid4().hex[:8]}"
    nc = await nats.connect(nats_url)
    try:
        silent = await nc.subscribe(subject)  # interest, never an answer
        confirmer = RecordConfirmer(nc)
        job = _JobMessage()
        then, alive, acked, signs = job.ack, job.in_progress, job.acked, job.signs

        await confirmer.publish(subject, b"rec", {"Nats-TTL": "60s"}, then, keepalive=alive)
        async with asyncio.timeout(10):
            while confirmer.pending:
                await confirmer.keep_alive(every=0.05)
                await asyncio.sleep(0.05)
        await nc.flush()
        assert silent.pending_msgs >= 2  # sent, then sent again at least once
        assert signs and acked == []  # kept alive while retried; given up, never acked
    finally:
        await nc.close()
