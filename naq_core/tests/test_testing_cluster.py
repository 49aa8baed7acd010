"""naq_core.testing.cluster: three clustered servers, a leader killed by pid and restarted."""

from __future__ import annotations

import asyncio

import nats
from nats.aio.client import Client as NATS
from nats.js.api import StreamConfig

from naq_core.testing.cluster import NatsCluster, stream_leader


async def _leader(nc: NATS, stream: str, *, other_than: str | None = None) -> str:
    js = nc.jetstream()
    for _ in range(300):
        try:
            leader = await stream_leader(js, stream)
        except (nats.errors.Error, TimeoutError):
            leader = None
        if leader and leader != other_than:
            return leader
        await asyncio.sleep(0.05)
    raise AssertionError(f"{stream} got no leader (other than {other_than})")


async def test_a_killed_leader_is_replaced_and_its_node_comes_back(nats_cluster: NatsCluster) -> None:
    assert [n.name for n in nats_cluster.running()] == ["n1", "n2", "n3"]
    assert len(nats_cluster.urls.split(",")) == 3
    assert nats_cluster.meta_leader() in {"n1", "n2", "n3"}
    nc = await nats.connect(nats_cluster.url_list)
    try:
        await nc.jetstream().add_stream(StreamConfig(name="r3", subjects=["r3.>"], num_replicas=3))
        await nc.jetstream().publish("r3.a", b"kept")
        first = await _leader(nc, "r3")
        nats_cluster.kill(first)
        assert not nats_cluster.node(first).server.is_running()
        second = await _leader(nc, "r3", other_than=first)
        assert second in {n.name for n in nats_cluster.running()}
        msg = await nc.jetstream().get_msg("r3", 1)
        assert msg.data == b"kept"
        nats_cluster.restart(first)
        assert nats_cluster.node(first).server.is_running()
        assert len(nats_cluster.running()) == 3
    finally:
        await nc.close()
