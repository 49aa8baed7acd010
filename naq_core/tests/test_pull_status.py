"""The pull consumer re-asks at once when the server ends its request with a status
(409 on a consumer-leader change, 503 when the consumer has no leader or does not exist),
instead of holding the request's credit until it expires."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import nats
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, StreamConfig

from naq_core._consumer import PullConsumer
from naq_core.server import EmbeddedServer
from naq_core.testing.cluster import NatsCluster, consumer_leader
from naq_core.testing.worker import wait_until

#: Far longer than any wait below: a credit that comes back only on expiry fails the test.
EXPIRES = 60.0
DELIVERED_WITHIN = 15.0


@asynccontextmanager
async def pulling(nc: NATS, stream: str, consumer: str, got: list[Msg]) -> AsyncIterator[PullConsumer]:
    pull = PullConsumer(nc, stream, consumer, capacity=lambda: 4, deliver=got.append, expires=EXPIRES)
    await pull.start()
    try:
        yield pull
    finally:
        await pull.stop()


async def _setup(nc: NATS, stream: str, *, replicas: int, consumer: bool = True) -> None:
    js = nc.jetstream()
    await js.add_stream(StreamConfig(name=stream, subjects=[f"{stream}.>"], num_replicas=replicas))
    if consumer:
        await _consumer(nc, stream, replicas=replicas)


async def _consumer(nc: NATS, stream: str, *, replicas: int) -> None:
    config = ConsumerConfig(durable_name="d", ack_policy=AckPolicy.EXPLICIT, num_replicas=replicas)
    await nc.jetstream().add_consumer(stream, config)


async def test_a_leadership_change_409_re_issues_the_pull(nats_cluster: NatsCluster) -> None:
    nc = await nats.connect(nats_cluster.url_list)
    try:
        await _setup(nc, "s409", replicas=3)
        got: list[Msg] = []
        async with pulling(nc, "s409", "d", got):
            js = nc.jetstream()
            await _wait_waiting(nc, "s409")  # the pull is on the leader, so the change ends it
            before = await consumer_leader(js, "s409", "d")
            reply = await nc.request("$JS.API.CONSUMER.LEADER.STEPDOWN.s409.d", b"", timeout=5.0)
            assert json.loads(reply.data).get("success") is True
            await _wait_new_leader(nc, before)
            await js.publish("s409.x", b"after the change")
            await wait_until(lambda: len(got) == 1, timeout=DELIVERED_WITHIN)
            assert got[0].data == b"after the change"
    finally:
        await nc.close()


async def _wait_waiting(nc: NATS, stream: str) -> None:
    for _ in range(200):
        if (await nc.jetstream().consumer_info(stream, "d")).num_waiting >= 1:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the pull request never reached the consumer's leader")


async def _wait_new_leader(nc: NATS, before: str | None) -> None:
    js = nc.jetstream()
    for _ in range(200):
        try:
            leader = await consumer_leader(js, "s409", "d")
        except (nats.errors.Error, TimeoutError):
            leader = None
        if leader and leader != before:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the consumer got no new leader")


async def test_a_no_responders_503_re_issues_the_pull(fresh_nats_server: EmbeddedServer) -> None:
    nc = await nats.connect(fresh_nats_server.url)
    try:
        await _setup(nc, "s503", replicas=1, consumer=False)
        got: list[Msg] = []
        async with pulling(nc, "s503", "d", got):  # no consumer yet: the server answers 503
            await _consumer(nc, "s503", replicas=1)
            await nc.jetstream().publish("s503.x", b"once it exists")
            await wait_until(lambda: len(got) == 1, timeout=DELIVERED_WITHIN)
            assert got[0].data == b"once it exists"
    finally:
        await nc.close()
