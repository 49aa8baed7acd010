"""naq_core.testing.cluster: three clustered servers, a leader killed by pid and restarted."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import nats
from nats.aio.client import Client as NATS
from nats.js.api import StreamConfig

from naq_core.server import EmbeddedServer, free_port
from naq_core.testing.cluster import ClusterNode, NatsCluster, _start_node, stream_leader


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


def test_a_node_whose_client_port_was_taken_since_it_was_picked_starts_on_another(tmp_path: Path) -> None:
    """The routes of the nodes started first open outgoing connections from the same range
    of ports that free_port() picks from, so a node's port can be taken before it starts
    (seen in CI: "port ... is already in use"); the node then starts on fresh ports."""
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    server = EmbeddedServer(
        port=port, http_port=free_port(), store_dir=tmp_path / "js", log_file=tmp_path / "log"
    )
    node = ClusterNode(name="n1", directory=tmp_path, server=server, cluster_port=free_port())
    try:
        _start_node(node)
        assert server.is_running() and server.port != port
    finally:
        server.stop()
        taken.close()
