"""Every create-if-missing step naq takes on JetStream: streams, consumers, buckets.

Each function is idempotent and safe to race: "already in use" from the server means
another process created the same thing a moment earlier. :class:`~.connection.Connection`
calls these once per connection and remembers what exists.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import nats.errors
import nats.js.errors
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    KeyValueConfig,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.kv import KeyValue

from naq_core._jetstream.names import (
    ADVISORIES_STREAM,
    ADVISORY_SUBJECT,
    JOBS_STREAM,
    JOBS_SUBJECTS,
    MOVER_CONSUMER,
    SCHEDULE_SUBJECTS,
    queue_filter,
)
from naq_core._jetstream.natspy import kv_reads_from_leader
from naq_core.errors import ConfigurationError, NaqConnectionError

__all__ = [
    "ADVISORY_MAX_AGE",
    "allow_schedules",
    "create_if_missing",
    "ensure_advisory_stream",
    "ensure_bucket",
    "ensure_jobs_stream",
    "ensure_worker_consumer",
    "wait_for_leader",
]

#: How long captured MAX_DELIVERIES advisories are kept.
ADVISORY_MAX_AGE = 7 * 24 * 3600.0
#: JetStream error codes for "stream/consumer name already in use".
_ALREADY_IN_USE = (10058, 10148)
#: How long a replicated stream just made (by us or a racing process) may take to elect
#: its leader before naq gives up, and how often it asks meanwhile.
LEADER_TIMEOUT = 15.0
_LEADER_POLL = 0.05
_T = TypeVar("_T")


async def create_if_missing(awaitable: Any, *, where: str = "NATS") -> Any:
    """Await a JetStream create call; ``None`` if another process created it meanwhile.

    A server without JetStream (no responders) becomes one :class:`NaqConnectionError`.
    """
    try:
        return await awaitable
    except nats.js.errors.BadRequestError as exc:
        if "already in use" in str(exc) or getattr(exc, "err_code", 0) in _ALREADY_IN_USE:
            return None
        raise
    except nats.errors.NoRespondersError:
        raise NaqConnectionError(
            f"NATS at {where} has no JetStream; start it with -js (or use `naq server`)"
        ) from None


async def wait_for_leader(js: JetStreamContext, stream: str, *, replicas: int, where: str = "NATS") -> None:
    """Return once replicated ``stream`` has a leader (at once for ``replicas`` 1).

    On a fresh cluster a stream that another process created a moment ago ("already in
    use") exists before it has a leader; a publish to it then gets "no responders" (nats-py
    ``NoStreamResponseError``). Waiting here, once per connection, keeps that out of every
    caller. Raises :class:`NaqConnectionError` after :data:`LEADER_TIMEOUT` seconds.
    """
    if replicas <= 1:
        return
    deadline = time.monotonic() + LEADER_TIMEOUT
    while True:
        try:
            info = await js.stream_info(stream)
            if info.cluster is None or info.cluster.leader:
                return
        except (nats.errors.Error, TimeoutError):
            # The stream info itself needs a leader; a server that has not yet heard of a
            # stream made a moment ago answers "not found".
            pass
        if time.monotonic() >= deadline:
            raise NaqConnectionError(
                f"stream {stream} on {where} has no leader after {LEADER_TIMEOUT:g}s "
                f"(are most of its {replicas} servers up?)"
            )
        await asyncio.sleep(_LEADER_POLL)


async def _opening(call: Callable[[], Awaitable[_T]], *, replicas: int, where: str) -> _T:
    """``call()`` (a stream's or consumer's info), asked again while it times out or finds
    no leader on a replicated object (one made a moment ago elsewhere, still electing its
    leader), for up to :data:`LEADER_TIMEOUT` seconds. "Not found" is raised at once."""
    deadline = time.monotonic() + LEADER_TIMEOUT
    while True:
        try:
            return await call()
        except (nats.errors.TimeoutError, nats.js.errors.ServiceUnavailableError) as exc:
            if replicas <= 1:
                raise
            if time.monotonic() >= deadline:
                raise NaqConnectionError(
                    f"NATS at {where} did not answer within {LEADER_TIMEOUT:g}s "
                    f"(are most of the {replicas} servers up?): {exc}"
                ) from exc
        await asyncio.sleep(_LEADER_POLL)


async def ensure_jobs_stream(
    js: JetStreamContext, *, replicas: int, server_version: tuple[int, int, int], where: str = "NATS"
) -> None:
    """The ``naq_jobs`` work-queue stream; refuses a stream of that name made by someone else."""
    try:
        info = await _opening(lambda: js.stream_info(JOBS_STREAM), replicas=replicas, where=where)
    except nats.js.errors.NotFoundError:
        await create_if_missing(
            js.add_stream(
                StreamConfig(
                    name=JOBS_STREAM,
                    subjects=[JOBS_SUBJECTS, SCHEDULE_SUBJECTS],
                    retention=RetentionPolicy.WORK_QUEUE,
                    storage=StorageType.FILE,
                    num_replicas=replicas,
                    duplicate_window=120.0,
                    allow_msg_schedules=server_version >= (2, 12, 0) or None,
                    allow_msg_ttl=True,
                    # Readers page through waiting jobs with batch direct gets, never a consumer.
                    allow_direct=True,
                )
            ),
            where=where,
        )
        await wait_for_leader(js, JOBS_STREAM, replicas=replicas, where=where)
        return
    if info.cluster is not None and not info.cluster.leader:
        await wait_for_leader(js, JOBS_STREAM, replicas=replicas, where=where)
    subjects = set(info.config.subjects or ())
    if JOBS_SUBJECTS not in subjects:
        raise ConfigurationError(
            f"stream {JOBS_STREAM} exists with subjects {sorted(subjects)} (made by the "
            f"original naq?); naq needs {JOBS_SUBJECTS} — remove the old stream "
            f"(nats stream rm {JOBS_STREAM}) after draining it"
        )


async def allow_schedules(js: JetStreamContext) -> None:
    """Turn on message schedules on a jobs stream made before naq used them."""
    info = await js.stream_info(JOBS_STREAM)
    if not info.config.allow_msg_schedules:
        config: StreamConfig = info.config
        config.allow_msg_schedules = True
        await js.update_stream(config)


async def ensure_worker_consumer(
    js: JetStreamContext,
    name: str,
    queue: str,
    *,
    ack_wait: float,
    max_deliver: int,
    replicas: int,
    where: str = "NATS",
) -> bool:
    """The durable pull consumer ``name`` on ``queue``'s jobs, with these limits.

    Returns ``True`` if an existing consumer had other limits and was updated (the original
    naq kept the first worker's settings for ever).
    """
    try:
        info = await _opening(lambda: js.consumer_info(JOBS_STREAM, name), replicas=replicas, where=where)
    except nats.js.errors.NotFoundError:
        info = None
    if info is not None and (info.config.ack_wait, info.config.max_deliver) == (ack_wait, max_deliver):
        return False
    await create_if_missing(
        js.add_consumer(
            JOBS_STREAM,
            ConsumerConfig(
                durable_name=name,
                filter_subject=queue_filter(queue),
                ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.ALL,
                ack_wait=ack_wait,
                max_deliver=max_deliver,
                max_ack_pending=-1,
                max_waiting=512,
                num_replicas=replicas,
            ),
        ),
        where=where,
    )
    return info is not None


async def ensure_bucket(
    js: JetStreamContext, name: str, *, history: int = 1, replicas: int, where: str = "NATS"
) -> KeyValue:
    """The key-value bucket ``name``, created with ``history`` and ``replicas`` if missing.

    Buckets allow direct gets (listings page through them in batches without a consumer);
    the handle returned still reads from the leader (:func:`kv_reads_from_leader`).
    """
    stream = f"KV_{name}"
    try:
        kv = await _opening(lambda: js.key_value(name), replicas=replicas, where=where)
    except (nats.js.errors.BucketNotFoundError, nats.js.errors.NotFoundError):
        kv = await create_if_missing(
            js.create_key_value(KeyValueConfig(bucket=name, history=history, replicas=replicas, direct=True)),
            where=where,
        )
        if kv is None:  # created concurrently: open the one that won
            kv = await js.key_value(name)
    # Found or made a moment ago by a racing process, it may not have its leader yet.
    await wait_for_leader(js, stream, replicas=replicas, where=where)
    result: KeyValue = kv_reads_from_leader(kv)
    return result


async def ensure_advisory_stream(js: JetStreamContext, *, replicas: int) -> None:
    """``naq_advisories`` (captures the jobs stream's MAX_DELIVERIES advisories) and the
    mover's durable consumer ``naq-dlq-mover``."""
    try:
        await _opening(lambda: js.stream_info(ADVISORIES_STREAM), replicas=replicas, where="NATS")
    except nats.js.errors.NotFoundError:
        await create_if_missing(
            js.add_stream(
                StreamConfig(
                    name=ADVISORIES_STREAM,
                    subjects=[ADVISORY_SUBJECT],
                    retention=RetentionPolicy.LIMITS,
                    storage=StorageType.FILE,
                    max_age=ADVISORY_MAX_AGE,
                    num_replicas=replicas,
                )
            )
        )
        await wait_for_leader(js, ADVISORIES_STREAM, replicas=replicas)
    try:
        await _opening(
            lambda: js.consumer_info(ADVISORIES_STREAM, MOVER_CONSUMER), replicas=replicas, where="NATS"
        )
    except nats.js.errors.NotFoundError:
        await create_if_missing(
            js.add_consumer(
                ADVISORIES_STREAM,
                ConsumerConfig(
                    durable_name=MOVER_CONSUMER,
                    ack_policy=AckPolicy.EXPLICIT,
                    deliver_policy=DeliverPolicy.ALL,
                    ack_wait=60.0,
                    max_deliver=-1,
                    num_replicas=replicas,
                ),
            )
        )
