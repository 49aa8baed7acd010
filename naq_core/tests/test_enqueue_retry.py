"""An enqueue in flight when the link to NATS breaks is sent again after the reconnect.

Every job is published with ``Nats-Msg-Id: <queue>/<job id>`` (a generated id too), so the
server stores a re-sent job once. Through a TCP proxy: the server stores the job but its ack
is lost (or the job itself is lost), the link is cut, the client reconnects; the enqueue
then completes with the job stored exactly once. A link that does not come back gives
:class:`NaqConnectionError` after the outage bound.
"""

from __future__ import annotations

import asyncio
import collections
from typing import Any

import client_tasks
import nats.js.errors
import pytest
from tcp_proxy import TcpProxy

from naq_core import NaqConnectionError, Queue
from naq_core._jetstream import publish
from naq_core._jetstream.names import JOBS_STREAM, job_subject
from naq_core.job import Job
from naq_core.server import EmbeddedServer
from naq_core.testing.worker import eventually, wait_until

MANY = 50


async def _stored(q: Queue, job: Job | str) -> int:
    """How many messages the jobs stream holds on this job's subject."""
    job_id = job.job_id if isinstance(job, Job) else job
    conn = await q.connection()
    info = await conn.js.stream_info(JOBS_STREAM, subjects_filter=job_subject(q.name, job_id))
    return sum((info.state.subjects or {}).values())


async def _cut_and_reconnect(proxy: TcpProxy, q: Queue) -> None:
    conn = await q.connection()
    reconnects = conn.nc.stats["reconnects"]
    proxy.cut()
    await wait_until(lambda: not conn.nc.is_connected)
    proxy.reopen()
    await wait_until(lambda: conn.nc.stats["reconnects"] > reconnects, timeout=30)


@pytest.mark.parametrize("lost", ["ack", "message"])
async def test_an_enqueue_in_flight_during_a_cut_completes_stored_once(
    nats_server: EmbeddedServer, queue_name: str, proxy: TcpProxy, lost: str
) -> None:
    async with Queue(queue_name, nats_server.url) as direct, Queue(queue_name, proxy.url) as q:
        await q.connection()
        proxy.drop_replies() if lost == "ack" else proxy.drop_requests()
        job = q.prepare(client_tasks.add, 1, 2)
        sending = asyncio.create_task(q.enqueue_job(job))
        if lost == "ack":  # the server stored it; the client never hears so
            await eventually(lambda: _holds(direct, 1))
        else:
            await asyncio.sleep(0.2)  # the message goes into the void (nothing to wait on)
            assert await direct.count() == 0
        assert not sending.done()
        await _cut_and_reconnect(proxy, q)
        async with asyncio.timeout(60):
            done = await sending
        assert done.job_id == job.job_id and not done.duplicate
        assert await _stored(direct, job) == 1
        assert await direct.count() == 1


async def test_a_chosen_id_resent_after_a_lost_ack_is_not_called_a_duplicate(
    nats_server: EmbeddedServer, queue_name: str, proxy: TcpProxy
) -> None:
    async with Queue(queue_name, nats_server.url) as direct, Queue(queue_name, proxy.url) as q:
        await q.connection()
        proxy.drop_replies()
        sending = asyncio.create_task(q.enqueue(client_tasks.add, 1, 2, job_id="mine"))
        await eventually(lambda: _holds(direct, 1))
        await _cut_and_reconnect(proxy, q)
        async with asyncio.timeout(60):
            job = await sending
        assert not job.duplicate  # the stored message is our own first send
        assert await _stored(direct, "mine") == 1
        again = await q.enqueue(client_tasks.add, 1, 2, job_id="mine")
        assert again.duplicate  # a second enqueue of the id is one
        assert await _stored(direct, "mine") == 1


async def test_a_chosen_id_taken_by_another_producer_stays_a_duplicate_after_a_resend(
    nats_server: EmbeddedServer, queue_name: str, proxy: TcpProxy
) -> None:
    async with Queue(queue_name, nats_server.url) as direct, Queue(queue_name, proxy.url) as q:
        await direct.enqueue(client_tasks.add, 5, 5, job_id="theirs")
        await q.connection()
        proxy.drop_replies()
        sending = asyncio.create_task(q.enqueue(client_tasks.add, 1, 2, job_id="theirs"))
        await asyncio.sleep(0.2)  # the server answers "duplicate" into the void
        await _cut_and_reconnect(proxy, q)
        async with asyncio.timeout(60):
            job = await sending
        assert job.duplicate
        assert await _stored(direct, "theirs") == 1


@pytest.mark.parametrize("lost", ["ack", "message"])
async def test_enqueue_many_in_flight_during_a_cut_stores_each_job_once(
    nats_server: EmbeddedServer, queue_name: str, proxy: TcpProxy, lost: str
) -> None:
    async with Queue(queue_name, nats_server.url) as direct, Queue(queue_name, proxy.url) as q:
        await q.connection()
        proxy.drop_replies() if lost == "ack" else proxy.drop_requests()
        sending = asyncio.create_task(q.enqueue_many([(client_tasks.add, (i, i)) for i in range(MANY)]))
        if lost == "ack":
            await eventually(lambda: _holds(direct, MANY))
        else:
            await asyncio.sleep(0.2)
            assert await direct.count() == 0
        assert not sending.done()
        await _cut_and_reconnect(proxy, q)
        async with asyncio.timeout(60):
            jobs = await sending
        assert len({job.job_id for job in jobs}) == MANY
        assert await direct.count() == MANY
        assert [await _stored(direct, job) for job in jobs] == [1] * MANY


async def test_enqueue_many_resends_only_what_was_not_acknowledged(
    nats_server: EmbeddedServer, queue_name: str, proxy: TcpProxy
) -> None:
    async with Queue(queue_name, nats_server.url) as direct, Queue(queue_name, proxy.url) as q:
        conn = await q.connection()
        sends: collections.Counter[str] = collections.Counter()
        publish = conn.nc.publish

        async def counting(subject: str, *args: Any, **kwargs: Any) -> None:
            sends[subject] += 1
            await publish(subject, *args, **kwargs)

        conn.nc.publish = counting  # type: ignore[method-assign]  # the real publish, counted
        jobs = [q.prepare(client_tasks.add, i, i) for i in range(MANY)]
        acked, lost = jobs[: MANY // 2], jobs[MANY // 2 :]
        await q.enqueue_many(acked)
        proxy.drop_replies()
        sending = asyncio.create_task(q.enqueue_many(lost))
        await eventually(lambda: _holds(direct, MANY))
        await _cut_and_reconnect(proxy, q)
        async with asyncio.timeout(60):
            await sending
        assert [sends[job_subject(queue_name, job.job_id)] for job in acked] == [1] * len(acked)
        assert [sends[job_subject(queue_name, job.job_id)] for job in lost] == [2] * len(lost)
        assert [await _stored(direct, job) for job in jobs] == [1] * MANY


@pytest.mark.parametrize("many", [False, True])
async def test_an_outage_longer_than_the_bound_is_one_clear_error(
    nats_server: EmbeddedServer, queue_name: str, proxy: TcpProxy, monkeypatch: pytest.MonkeyPatch, many: bool
) -> None:
    monkeypatch.setattr(publish, "OUTAGE_TIMEOUT", 1.5)
    async with Queue(queue_name, proxy.url) as q:
        conn = await q.connection()
        proxy.drop_replies()
        sending: asyncio.Task[object] = asyncio.create_task(
            q.enqueue_many([(client_tasks.add, (i, i)) for i in range(MANY)])
            if many
            else q.enqueue(client_tasks.add, 1, 2)
        )
        await asyncio.sleep(0.1)
        proxy.cut()  # and it stays down
        await wait_until(lambda: not conn.nc.is_connected)
        with pytest.raises(NaqConnectionError) as caught:
            async with asyncio.timeout(60):
                await sending
        text = str(caught.value)
        assert "\n" not in text
        assert "did not come back" in text and "deleted" not in text
        # and an enqueue made while NATS is away fails the same way
        with pytest.raises(NaqConnectionError, match="did not come back"):
            async with asyncio.timeout(60):
                await q.enqueue(client_tasks.add, 3, 4)


async def test_a_deleted_stream_is_named_at_once(
    fresh_nats_server: EmbeddedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(publish, "OUTAGE_TIMEOUT", 600.0)  # the answer must not wait for it
    async with Queue("gone", fresh_nats_server.url) as q:
        conn = await q.connection()
        await conn.js.delete_stream(JOBS_STREAM)
        with pytest.raises(NaqConnectionError, match="was the stream deleted"):
            async with asyncio.timeout(30):
                await q.enqueue(client_tasks.add, 1, 2)
        with pytest.raises(NaqConnectionError, match="was the stream deleted"):
            async with asyncio.timeout(30):
                await q.enqueue_many([(client_tasks.add, (1, 2))])
        with pytest.raises(nats.js.errors.NotFoundError):
            await conn.js.stream_info(JOBS_STREAM)


async def _holds(q: Queue, expected: int) -> bool:
    return await q.count() == expected
