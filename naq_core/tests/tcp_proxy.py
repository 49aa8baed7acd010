"""A TCP relay between clients and a nats-server that can lose traffic and cut the link.

Tests use it to put a client in the situations a network gives: a reply that never comes
back (:meth:`TcpProxy.drop_replies`), a message that never arrives (:meth:`drop_requests`),
the ``PUB``/``HPUB`` commands a client sends to some subjects (:meth:`drop_published_to`: a
job's ack or its record, say), a cut connection (:meth:`cut`), refused reconnects until :meth:`reopen`.
"""

from __future__ import annotations

import asyncio
import re

_PUBLISH = re.compile(rb"(?:^|(?<=\n))H?PUB (\S+) [^\r\n]*?(\d+)\r\n")


def _without_publishes(data: bytes, prefix: bytes) -> bytes:
    """``data`` (client protocol) without the publishes to subjects starting with ``prefix``:
    the command line and the ``<total size>`` bytes (and CRLF) after it."""
    out, at = bytearray(), 0
    while (found := _PUBLISH.search(data, at)) is not None:
        end = found.end() + int(found.group(2)) + 2
        out += data[at : found.start()]
        if not found.group(1).startswith(prefix):
            out += data[found.start() : end]
        at = end
    return bytes(out + data[at:])


__all__ = ["TcpProxy"]


class TcpProxy:
    """Relays ``127.0.0.1:<port>`` to the server at ``target_port``."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.open = True
        self.forward_requests = True  # client -> server
        self.forward_replies = True  # server -> client
        self.drop_prefix: bytes | None = None  # client -> server (H)PUBs to it are removed
        self.connections = 0
        self.writers: set[asyncio.StreamWriter] = set()
        self.server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        """The relay's ``nats://`` URL (once started)."""
        assert self.server is not None, "start() first"
        return f"nats://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return f"nats://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.open:
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self.writers |= {writer, up_writer}
        self.connections += 1

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, upstream: bool) -> None:
            try:
                while data := await src.read(65536):
                    if upstream and self.drop_prefix is not None:
                        data = _without_publishes(data, self.drop_prefix)
                    if self.forward_requests if upstream else self.forward_replies:
                        dst.write(data)
                        await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer, True), pipe(up_reader, writer, False))

    def drop_replies(self) -> None:
        """From now on, what the server sends is lost (until :meth:`cut` and :meth:`reopen`)."""
        self.forward_replies = False

    def drop_requests(self) -> None:
        """From now on, what clients send is lost (until :meth:`cut` and :meth:`reopen`)."""
        self.forward_requests = False

    def drop_published_to(self, prefix: bytes) -> None:
        """From now on, ``PUB`` and ``HPUB`` commands to subjects starting with ``prefix``
        (with their payload) are removed from what clients send, everything else is
        relayed, until :meth:`keep_published` or :meth:`reopen`. (A command split across
        two reads slips through; on loopback a small one is not split.)"""
        self.drop_prefix = prefix

    def keep_published(self) -> None:
        """Relay every publish again."""
        self.drop_prefix = None

    def cut(self) -> None:
        """Close every relayed connection and refuse new ones."""
        self.open = False
        for writer in self.writers:
            writer.close()
        self.writers.clear()

    def reopen(self) -> None:
        """Accept (and relay faithfully) new connections again."""
        self.forward_requests = self.forward_replies = True
        self.drop_prefix = None
        self.open = True

    async def close(self) -> None:
        self.cut()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
