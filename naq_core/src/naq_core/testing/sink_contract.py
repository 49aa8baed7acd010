"""The test suite every dead-letter sink plugin inherits: subclass it and provide the sink.

::

    import pytest
    from naq_core.deadletter import DeadLetter, DeadLetterSink
    from naq_core.testing import DeadLetterSinkContract

    class TestMySink(DeadLetterSinkContract):
        @pytest.fixture
        def sink(self, tmp_path) -> DeadLetterSink:
            return MySink(tmp_path / "letters")

        # Optional, but without it the suite cannot check what was stored:
        async def read_back(self, sink: MySink) -> list[DeadLetter]:
            return await sink.read_all()

The contract (see :class:`naq_core.deadletter.DeadLetterSink`): ``name`` is a non-empty str;
``async store(letter)`` returns only once the letter is durable and accepts every letter
naq produces: any reason, payloads of any bytes (empty, not UTF-8, large), headers,
multi-line tracebacks, unknown job id and function; many stores may run at once. With
``read_back``, every letter comes back equal to what was stored, payload bytes exact.

A sink that needs NATS can take the ``nats_url`` fixture (``naq_core.testing.fixtures``)
in its ``sink`` fixture and connect lazily on its first ``store``: the fixture is
synchronous, the tests run in the event loop. Override :meth:`close_sink` to release what
the sink opened. Needs pytest and pytest-asyncio (test dependencies, not dependencies of
naq-core).
"""

from __future__ import annotations

import asyncio
import inspect
import os
import time
import uuid
from collections.abc import Awaitable, Iterable
from typing import Any, ClassVar, cast

import attrs
import pytest

from naq_core.deadletter import DeadLetter, DeadLetterReason, DeadLetterSink

__all__ = ["DeadLetterSinkContract", "assert_same_letter", "sample_letter"]

_BINARY_PREFIX = b"\xff\xfe\x00\x80naq\xc3\x28"  # not UTF-8 (an invalid 2-byte sequence too)
_TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "/srv/app/tasks.py", line 12, in send_email\n'
    "    raise ValueError(\"adresse refusée: 'bob@example.com'\")\n"
    "ValueError: adresse refusée: 'bob@example.com'\n"
)


def sample_letter(
    reason: DeadLetterReason = DeadLetterReason.RETRIES_EXHAUSTED, **changes: Any
) -> DeadLetter:
    """A letter with every field set, a unique job id and a unique, non-UTF-8 payload."""
    marker = uuid.uuid4().hex
    now = time.time()
    letter = DeadLetter(
        reason=reason,
        queue_name="emails",
        payload=_BINARY_PREFIX + marker.encode() + bytes(range(256)),
        headers={"Naq-Serializer": "json", "X-Request-Id": f"req-{marker}", "X-Note": "a: b; c=d é"},
        job_id=marker,
        function="myapp.tasks:send_email",
        error_type="ValueError",
        error="adresse refusée: 'bob@example.com'",
        traceback=_TRACEBACK,
        attempts=3,
        first_seen=now - 12.345678,
        last_seen=now,
        worker_id="host-1234-abcdef",
        subject=f"naq.queue.emails.{marker}",
    )
    return attrs.evolve(letter, **changes)


def _minimal_letter(reason: DeadLetterReason) -> DeadLetter:
    """What a poison message produces: no job id, no function, no traceback."""
    marker = uuid.uuid4().hex
    return DeadLetter(
        reason=reason,
        queue_name="default",
        payload=b"\x00garbage " + marker.encode() + b"\xff",
        subject=f"naq.queue.default.{marker}",
        last_seen=time.time(),
    )


def assert_same_letter(expected: DeadLetter, actual: DeadLetter) -> None:
    """Fail unless every field of ``actual`` equals ``expected`` (payload bytes exact)."""
    if type(actual.payload) is not bytes:
        raise AssertionError(f"payload came back as {type(actual.payload).__name__}, not bytes")
    if actual.payload != expected.payload:
        raise AssertionError(
            f"payload changed: {len(expected.payload)} bytes stored, {len(actual.payload)} read back "
            f"(first bytes {expected.payload[:16]!r} -> {actual.payload[:16]!r})"
        )
    if dict(actual.headers) != dict(expected.headers):
        raise AssertionError(f"headers changed: {dict(expected.headers)!r} -> {dict(actual.headers)!r}")
    for field in attrs.fields(DeadLetter):
        if field.name in ("payload", "headers"):
            continue
        want, got = getattr(expected, field.name), getattr(actual, field.name)
        if want != got:
            raise AssertionError(f"{field.name} changed: {want!r} -> {got!r}")
    if not isinstance(actual.reason, DeadLetterReason):
        raise AssertionError(f"reason came back as {type(actual.reason).__name__}, not DeadLetterReason")


def _find(letters: Iterable[DeadLetter], expected: DeadLetter) -> DeadLetter:
    matches = [
        letter
        for letter in letters
        if letter.payload == expected.payload and letter.job_id == expected.job_id
    ]
    if not matches:
        raise AssertionError(
            f"letter job_id={expected.job_id!r} payload={expected.payload[:24]!r}... was not read back"
        )
    if len(matches) > 1:
        raise AssertionError(f"letter job_id={expected.job_id!r} was read back {len(matches)} times")
    return matches[0]


class DeadLetterSinkContract:
    """Base class of a dead-letter sink's test suite; override the ``sink`` fixture."""

    #: Size of the large payload stored by :meth:`test_stores_large_payload` (bytes).
    large_payload_size: ClassVar[int] = 256 * 1024
    #: How many letters :meth:`test_stores_many_concurrently` stores at once.
    concurrent_letters: ClassVar[int] = 50

    @pytest.fixture
    def sink(self) -> DeadLetterSink:
        """The sink under test: subclasses must override this fixture."""
        raise NotImplementedError("override the `sink` fixture in your DeadLetterSinkContract subclass")

    def read_back(self, sink: Any) -> list[DeadLetter] | Awaitable[list[DeadLetter]] | None:
        """Every letter the sink holds (may be ``async def``). ``None``: cannot read back."""
        return None

    async def close_sink(self, sink: Any) -> None:
        """Release what the sink opened; called after each test (default: ``aclose()``)."""
        closer = getattr(sink, "aclose", None)
        if callable(closer):
            result = closer()
            if inspect.isawaitable(result):
                await result

    # --- helpers --------------------------------------------------------------------------

    async def _stored(self, sink: Any) -> list[DeadLetter] | None:
        result = self.read_back(sink)
        if inspect.isawaitable(result):
            result = await result
        return None if result is None else list(result)

    async def _check(self, sink: DeadLetterSink, letters: list[DeadLetter]) -> None:
        """Store ``letters`` one by one, then (if possible) read each back unchanged."""
        try:
            for letter in letters:
                returned = await cast("Awaitable[object]", sink.store(letter))
                assert returned is None, f"store() returned {returned!r}; it must return None"
            await self._check_read_back(sink, letters)
        finally:
            await self.close_sink(sink)

    async def _check_read_back(self, sink: DeadLetterSink, letters: list[DeadLetter]) -> None:
        """Each of ``letters`` comes back unchanged (if the suite can read the sink back)."""
        stored = await self._stored(sink)
        if stored is not None:
            for letter in letters:
                assert_same_letter(letter, _find(stored, letter))

    # --- the protocol ---------------------------------------------------------------------

    def test_implements_protocol(self, sink: DeadLetterSink) -> None:
        assert isinstance(sink, DeadLetterSink), f"{sink!r} does not implement DeadLetterSink"
        assert isinstance(sink.name, str), "name must be a str"
        assert sink.name, "name must not be empty"
        assert inspect.iscoroutinefunction(sink.store), "store must be an async method"

    # --- storing --------------------------------------------------------------------------

    @pytest.mark.asyncio
    async def test_stores_letter_with_every_field(self, sink: DeadLetterSink) -> None:
        await self._check(sink, [sample_letter()])

    @pytest.mark.asyncio
    async def test_stores_every_reason(self, sink: DeadLetterSink) -> None:
        letters = [sample_letter(reason) for reason in DeadLetterReason]
        letters += [
            _minimal_letter(DeadLetterReason.POISON),
            _minimal_letter(DeadLetterReason.MAX_DELIVERIES),
        ]
        await self._check(sink, letters)

    @pytest.mark.asyncio
    async def test_stores_empty_payload_and_headers(self, sink: DeadLetterSink) -> None:
        await self._check(sink, [sample_letter(payload=b"", headers={}, traceback=None, error=None)])

    @pytest.mark.asyncio
    async def test_stores_large_payload(self, sink: DeadLetterSink) -> None:
        payload = _BINARY_PREFIX + os.urandom(self.large_payload_size)
        await self._check(sink, [sample_letter(payload=payload)])

    @pytest.mark.asyncio
    async def test_stores_many_concurrently(self, sink: DeadLetterSink) -> None:
        letters = [sample_letter(attempts=n) for n in range(self.concurrent_letters)]
        try:
            results = await asyncio.gather(*(sink.store(letter) for letter in letters))
            assert all(r is None for r in results), "store() must return None"
            await self._check_read_back(sink, letters)
        finally:
            await self.close_sink(sink)
