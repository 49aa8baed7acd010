"""The few nats-py internals naq relies on, one helper each.

nats-py has no public way to do these things. Each helper reads or writes one private
attribute, checked against **nats-py 2.16.0**; when upgrading nats-py, check each one
against its source (``nats/aio/msg.py``, ``nats/aio/client.py``, ``nats/js/kv.py``) and
update the version named here. Nothing else in naq (core or plugins) touches a private
attribute of a nats-py object.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nats.aio.client import Client
    from nats.aio.msg import Msg
    from nats.aio.subscription import Subscription
    from nats.js.client import JetStreamContext
    from nats.js.kv import KeyValue

__all__ = [
    "kv_bucket",
    "kv_jetstream",
    "kv_reads_from_leader",
    "kv_stream",
    "subscriptions",
    "term_with_reason",
    "watcher_consumer",
]


async def term_with_reason(msg: Msg, reason: str) -> None:
    """TERM a JetStream message with a reason, which the protocol allows and ``Msg.term()``
    does not take; afterwards ``msg.is_acked`` is true, as after ``term()``.

    nats-py 2.16.0: ``Msg._client`` is the connection that received it, ``Msg._ackd`` the
    flag behind ``is_acked`` (and behind the "already acknowledged" check).
    """
    if not msg.reply:
        return
    await msg._client.publish(msg.reply, f"+TERM {reason}".encode())
    msg._ackd = True


def kv_jetstream(kv: KeyValue) -> JetStreamContext:
    """The JetStream context a bucket handle talks through (nats-py 2.16.0: ``KeyValue._js``)."""
    js: JetStreamContext = kv._js
    return js


def kv_stream(kv: KeyValue) -> str:
    """The name of a bucket's stream, ``KV_<bucket>`` (nats-py 2.16.0: ``KeyValue._stream``)."""
    stream: str = kv._stream
    return stream


def kv_reads_from_leader(kv: KeyValue) -> KeyValue:
    """Make ``kv.get`` ask the stream's leader (``$JS.API.STREAM.MSG.GET``), not any replica.

    naq's buckets allow direct gets (the dashboard pages through them with batch direct
    gets), and nats-py then sends every ``get`` as a direct get, which a follower of a
    replicated stream may answer with a value that is not the newest yet. naq's own reads
    (a job's record, a dependency's status) must see the newest. nats-py 2.16.0:
    ``KeyValue._direct`` chooses between the two.
    """
    kv._direct = False
    return kv


def kv_bucket(kv: KeyValue) -> str:
    """The bucket's name (nats-py 2.16.0: ``KeyValue._name``)."""
    name: str = kv._name
    return name


def watcher_consumer(watcher: Any) -> str | None:
    """The server-side name of a KV watcher's ordered consumer, or ``None`` if it has none.

    An ordered consumer is re-created under a new name after a gap, so this is the current
    one. nats-py 2.16.0: ``KeyValue.KeyWatcher._sub`` is the JetStream push subscription
    (``None`` once stopped), and its ``_consumer`` the consumer's name.
    """
    sub = getattr(watcher, "_sub", None)
    name = getattr(sub, "_consumer", None)
    return name if isinstance(name, str) and name else None


def subscriptions(nc: Client) -> list[Subscription]:
    """The connection's live subscriptions (nats-py 2.16.0: ``Client._subs``, sid -> sub)."""
    subs: dict[int, Subscription] = nc._subs
    return list(subs.values())
