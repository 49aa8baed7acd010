"""A pull request keeps its credit while a stall delays it, on either side: the worker's
event loop stalled (a CPU-starved process, a long synchronous call) while the request's
messages waited unread in the connection, or the server stalled before it read the
request (its own expiry starts only then). Counting such a request expired on the client's
clock and asking again made the server send a second batch on top of the first, so a
worker held more messages than its capacity, and every stall added to the excess for as
long as the queue had a backlog (the worker's memory stepped up and stayed up)."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
import uuid

import nats
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, StreamConfig

from naq_core._consumer import PullConsumer
from naq_core.server import EmbeddedServer
from naq_core.testing.worker import wait_until

CAPACITY = 4
EXPIRES = 1.0
#: Longer than the request's expiry plus one tick of the expiry loop (``EXPIRES / 2``).
STALL = 2.5
BACKLOG = 3 * CAPACITY


async def _publish(url: str, stream: str, count: int) -> None:
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        for i in range(count):
            await js.publish(f"{stream}.x", str(i).encode())
    finally:
        await nc.close()


async def _stream_and_consumer(nc: nats.NATS, stream: str) -> None:
    js = nc.jetstream()
    await js.add_stream(StreamConfig(name=stream, subjects=[f"{stream}.>"]))
    config = ConsumerConfig(durable_name="d", ack_policy=AckPolicy.EXPLICIT, ack_wait=60.0)
    await js.add_consumer(stream, config)


async def _settled(nc: nats.NATS, stream: str, pull: PullConsumer, got: list[Msg]) -> tuple[int, int, int]:
    """(messages the server delivered unacked, messages handed over, held) once the server
    has no request left open and a round trip has brought in what it sent before."""
    await wait_until(lambda: len(got) >= CAPACITY, timeout=15.0)
    for _ in range(200):
        await nc.flush()
        if await _waiting(nc, stream) == 0:
            break
        await asyncio.sleep(0.05)
    await nc.flush()
    info = await nc.jetstream().consumer_info(stream, "d")
    return info.num_ack_pending, len(got), pull.held


async def _waiting(nc: nats.NATS, stream: str) -> int:
    return (await nc.jetstream().consumer_info(stream, "d")).num_waiting


async def test_messages_that_arrive_during_a_stall_do_not_lose_their_request(nats_url: str) -> None:
    stream = f"stall{uuid.uuid4().hex[:8]}"
    nc = await nats.connect(nats_url)
    try:
        await _stream_and_consumer(nc, stream)
        got: list[Msg] = []  # held and never finished: no credit ever comes back
        pull = PullConsumer(nc, stream, "d", capacity=lambda: CAPACITY, deliver=got.append, expires=EXPIRES)
        await pull.start()
        try:
            for _ in range(200):  # the pull is waiting on the server
                if await _waiting(nc, stream) >= 1:
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("the pull request never reached the server")
            publisher = threading.Thread(target=asyncio.run, args=(_publish(nats_url, stream, BACKLOG),))
            publisher.start()
            publisher.join(30.0)  # the loop is stalled from here: the answer waits in the socket
            assert not publisher.is_alive()
            time.sleep(STALL)  # blocking the loop is the point
            assert await _settled(nc, stream, pull, got) == (CAPACITY, CAPACITY, CAPACITY)
        finally:
            await pull.stop()
    finally:
        await nc.close()


async def test_a_request_the_server_reads_late_keeps_its_credit(fresh_nats_server: EmbeddedServer) -> None:
    stream = f"late{uuid.uuid4().hex[:8]}"
    pid = fresh_nats_server.pid
    assert pid is not None
    nc = await nats.connect(fresh_nats_server.url)
    try:
        await _stream_and_consumer(nc, stream)
        await _publish(fresh_nats_server.url, stream, BACKLOG)
        got: list[Msg] = []
        pull = PullConsumer(nc, stream, "d", capacity=lambda: CAPACITY, deliver=got.append, expires=EXPIRES)
        os.kill(pid, signal.SIGSTOP)  # the server reads the request only after STALL seconds
        resume = threading.Timer(STALL, os.kill, args=(pid, signal.SIGCONT))
        resume.start()
        try:
            await pull.start()
            await wait_until(lambda: not resume.is_alive(), timeout=STALL + 10.0)
            assert await _settled(nc, stream, pull, got) == (CAPACITY, CAPACITY, CAPACITY)
        finally:
            resume.cancel()
            os.kill(pid, signal.SIGCONT)
            await pull.stop()
    finally:
        await nc.close()
