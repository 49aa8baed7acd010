"""The job value, its status, its retry policy and its wire envelope."""

from __future__ import annotations

import enum
import math
import os
import random
import re
import time
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from attrs import evolve, field, fields, frozen

from naq_core.errors import SerializationError

__all__ = [
    "MAX_JOB_ID_LENGTH",
    "MAX_RETRIES",
    "MAX_SECONDS",
    "TERMINAL_STATUSES",
    "Job",
    "JobStatus",
    "Outcome",
    "RetryStrategy",
    "check_job_id",
    "exception_names",
    "new_job_id",
]

ENVELOPE_VERSION = 1
#: The longest job id (a caller's ``job_id=``, or one in a message) naq accepts.
MAX_JOB_ID_LENGTH = 128
#: The longest duration naq accepts (retry delays, timeouts, TTLs, schedule delays): 10 years.
MAX_SECONDS = 10 * 365 * 24 * 3600.0
#: The most retries a job may ask for (also the highest ``max_deliver``).
MAX_RETRIES = 1_000_000
#: ``enqueued_at`` is a unix time before the year 10000 (what ``datetime`` can show).
_MAX_TIMESTAMP = 253_402_300_799.0
# printable ASCII (``!`` to ``~``: no space) without ``*``, ``.`` and ``>``
_TOKEN_RE = re.compile(rf"^[!-)+-\-/-=?-~]{{1,{MAX_JOB_ID_LENGTH}}}\Z")  # \Z, not $: no trailing newline
_ID_RULE = f"1-{MAX_JOB_ID_LENGTH} printable ASCII characters without spaces, '.', '*' or '>'"
_NO_HEADERS: Mapping[str, str] = MappingProxyType({})


def _is_token(value: str) -> bool:
    return _TOKEN_RE.match(value) is not None


def check_job_id(job_id: object) -> str:
    """``job_id`` if the worker accepts it (a NATS subject token), else ``ValueError``."""
    if not isinstance(job_id, str) or not _is_token(job_id):
        shown = job_id[:80] if isinstance(job_id, str) else job_id
        raise ValueError(f"job_id {shown!r} is not valid: use {_ID_RULE}")
    return job_id


def _number(name: str, value: object) -> float:
    """``value`` as a finite float; ``ValueError`` naming ``name`` otherwise (bool included)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number, got {value!r}")
    try:
        number = float(value)
    except OverflowError:
        raise ValueError(f"{name} is too large: {str(value)[:40]}") from None
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return number


def _check_seconds(name: str, value: object, *, zero: bool) -> float:
    number = _number(name, value)
    if number < 0 or (number == 0 and not zero) or number > MAX_SECONDS:
        low = ">= 0" if zero else "> 0"
        raise ValueError(
            f"{name} must be {low} and at most {MAX_SECONDS:.0f} seconds (10 years), got {value!r}"
        )
    return number


class JobStatus(enum.StrEnum):
    """Where a job is in its life. Stored in the results bucket under the job id."""

    PENDING = "pending"  # published, not picked up yet (or no record kept)
    WAITING = "waiting"  # held until its dependencies complete
    SCHEDULED = "scheduled"  # will be published by a NATS schedule
    RUNNING = "running"
    RETRYING = "retrying"  # failed an attempt, will run again after its backoff
    COMPLETED = "completed"
    FAILED = "failed"
    DEPENDENCY_FAILED = "dependency_failed"
    CANCELLED = "cancelled"


TERMINAL_STATUSES = frozenset(
    {JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.DEPENDENCY_FAILED, JobStatus.CANCELLED}
)


class RetryStrategy(enum.StrEnum):
    """How the delay between attempts grows. ``linear`` (the original name) = fixed."""

    FIXED = "fixed"
    LINEAR = "linear"
    EXPONENTIAL = "exponential"


def new_job_id() -> str:
    """A fresh job id: 32 random lowercase hex characters, safe as a NATS subject token."""
    return os.urandom(16).hex()


def exception_names(exc_type: type[BaseException]) -> list[str]:
    """``module:qualname`` of ``exc_type`` and each base class, for retry_on/ignore_on."""
    return [f"{k.__module__}:{k.__qualname__}" for k in exc_type.__mro__]


def _delays(value: float | Sequence[float]) -> float | tuple[float, ...]:
    if isinstance(value, int | float):
        return _check_seconds("retry_delay", value, zero=True)
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise ValueError(f"retry_delay must be seconds or a list of seconds, got {value!r}")
    return tuple(_check_seconds("retry_delay", v, zero=True) for v in value)


def _retries(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_RETRIES:
        raise ValueError(f"{name} must be a whole number from 0 to {MAX_RETRIES}, got {value!r}")
    return value


def _check_retries(_: object, attribute: Any, value: object) -> None:
    _retries(attribute.name, value)


def _optional_seconds(name: str, value: object) -> object:
    """``value`` itself (``None``, or checked: kept as given, not made a float)."""
    if value is not None:
        _check_seconds(name, value, zero=False)
    return value


def _check_optional_seconds(_: object, attribute: Any, value: object) -> None:
    _optional_seconds(attribute.name, value)


def _timestamp(value: object) -> float:
    number = _number("enqueued_at", value)
    if not 0 <= number <= _MAX_TIMESTAMP:
        raise ValueError(f"enqueued_at must be a unix time from 0 to {_MAX_TIMESTAMP:.0f}, got {value!r}")
    return number


def _jitter(name: str, value: object) -> object:
    if not 0 <= _number(name, value) <= 1:
        raise ValueError(f"{name} must be from 0 to 1, got {value!r}")
    return value


def _check_jitter(_: object, attribute: Any, value: object) -> None:
    _jitter(attribute.name, value)


@frozen(kw_only=True)
class Job:
    """One call of a task: what to run, with what, and how to treat failure.

    Built by :meth:`naq_core.Queue.enqueue`; workers rebuild it from the envelope.
    ``attempt`` is 1 on the first run (JetStream's delivery count), never sent on the wire.
    """

    function: str
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(factory=dict)
    queue_name: str = "naq_default_queue"
    job_id: str = field(factory=new_job_id)
    max_retries: int = field(default=0, validator=_check_retries)
    retry_delay: float | tuple[float, ...] = field(default=0.0, converter=_delays)
    retry_strategy: RetryStrategy = field(default=RetryStrategy.LINEAR, converter=RetryStrategy)
    retry_jitter: float = field(default=0.0, validator=_check_jitter)
    retry_on: tuple[str, ...] = ()
    ignore_on: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    timeout: float | None = field(default=None, validator=_check_optional_seconds)
    result_ttl: float | None = field(default=None, validator=_check_optional_seconds)
    enqueued_at: float = field(factory=time.time, converter=_timestamp)
    attempt: int = 1
    #: True when the caller chose ``job_id``: it is then sent as ``Nats-Msg-Id`` so a
    #: repeated enqueue within the duplicate window is dropped. Not part of the envelope.
    dedupe: bool = field(default=False, eq=False)
    #: Set on what ``enqueue`` returns when the queue already held this job id (chosen with
    #: ``job_id=`` and enqueued within the duplicate window): nothing new was stored.
    duplicate: bool = field(default=False, eq=False)
    #: The schedule that fires this job (``enqueue_at``/``schedule``), else ``None``.
    schedule_id: str | None = None
    #: In a worker, the NATS headers of the message the job arrived in (what
    #: ``naq_job_headers`` added at enqueue, such as a W3C ``traceparent``, and naq's own);
    #: empty on the producer's side. Not part of the envelope.
    headers: Mapping[str, str] = field(default=_NO_HEADERS, eq=False, repr=False)

    # --- retry policy ---------------------------------------------------------------

    def should_retry(self, exc: BaseException) -> bool:
        """Whether a failure of this attempt should be retried (``ignore_on`` wins)."""
        if self.attempt > self.max_retries:
            return False
        names = exception_names(type(exc))
        if self.ignore_on and any(n in self.ignore_on for n in names):
            return False
        if self.retry_on:
            return any(n in self.retry_on for n in names)
        return True

    def retry_delay_for(self, attempt: int | None = None) -> float:
        """Seconds to wait before the attempt after ``attempt`` (default: this one)."""
        n = self.attempt if attempt is None else attempt
        if isinstance(self.retry_delay, tuple):
            if not self.retry_delay:
                return 0.0
            base = self.retry_delay[min(n, len(self.retry_delay)) - 1]
        elif self.retry_strategy is RetryStrategy.EXPONENTIAL:
            base = self.retry_delay * (2 ** min(max(n - 1, 0), 64))  # capped below: never overflows
        else:
            base = self.retry_delay
        if self.retry_jitter and base:
            base += base * self.retry_jitter * random.random()  # noqa: S311 - not crypto
        return min(base, MAX_SECONDS)

    def with_attempt(self, attempt: int) -> Job:
        return evolve(self, attempt=attempt)

    # --- wire envelope --------------------------------------------------------------

    def to_envelope(self) -> dict[str, Any]:
        """The dict a serializer encodes. Defaults are left out to keep messages small."""
        env: dict[str, Any] = {
            "v": ENVELOPE_VERSION,
            "id": self.job_id,
            "queue": self.queue_name,
            "fn": self.function,
            "args": list(self.args),  # a list on the wire; from_envelope makes it a tuple
            "kwargs": dict(self.kwargs),
            "at": self.enqueued_at,
        }
        if self.max_retries:
            env["retries"] = self.max_retries
            env["delay"] = list(self.retry_delay) if isinstance(self.retry_delay, tuple) else self.retry_delay
            env["strategy"] = self.retry_strategy.value
            if self.retry_jitter:
                env["jitter"] = self.retry_jitter
            if self.retry_on:
                env["retry_on"] = list(self.retry_on)
            if self.ignore_on:
                env["ignore_on"] = list(self.ignore_on)
        if self.depends_on:
            env["deps"] = list(self.depends_on)
        if self.timeout is not None:
            env["timeout"] = self.timeout
        if self.result_ttl is not None:
            env["ttl"] = self.result_ttl
        if self.schedule_id is not None:
            env["sched"] = self.schedule_id
        return env

    @classmethod
    def from_envelope(cls, env: Any, attempt: int = 1, headers: Mapping[str, str] | None = None) -> Job:
        """Rebuild a job; anything structurally wrong raises :class:`SerializationError`.

        ``headers``: those of the message it arrived in (kept as :attr:`headers`)."""
        if not isinstance(env, Mapping):
            raise SerializationError(f"payload is a {type(env).__name__}, not a job envelope")
        if env.get("v") != ENVELOPE_VERSION:
            raise SerializationError(f"unsupported envelope version {env.get('v')!r}")
        try:
            fn, job_id, queue = env["fn"], env["id"], env["queue"]
            args, kwargs = env.get("args", ()), env.get("kwargs", {})
            if not (isinstance(fn, str) and isinstance(job_id, str) and isinstance(queue, str)):
                raise TypeError("fn, id and queue must be strings")
            if not _is_token(job_id) or not _is_token(queue):
                raise ValueError(f"id {job_id[:80]!r} and queue {queue[:80]!r} must be subject tokens")
            if not isinstance(args, list | tuple) or not isinstance(kwargs, Mapping):
                raise TypeError("args must be a list and kwargs a mapping")
            # Numbers are checked here, never coerced: a non-finite or huge value is a
            # poison message here, not an error later in the worker. Each field is checked
            # once, by the same functions as the attrs validators and converters (absent
            # ones keep their defaults), so the Job is built without running them again.
            retries = env.get("retries", 0)
            if isinstance(retries, float) and math.isfinite(retries) and retries.is_integer():
                retries = int(retries)
            values: tuple[Any, ...] = (
                fn,
                tuple(args),
                dict(kwargs),
                queue,
                job_id,
                _retries("max_retries", retries),
                _delays(env["delay"]) if "delay" in env else 0.0,
                RetryStrategy(env["strategy"]) if "strategy" in env else RetryStrategy.LINEAR,
                _jitter("retry_jitter", env["jitter"]) if "jitter" in env else 0.0,
                tuple(env.get("retry_on", ())),
                tuple(env.get("ignore_on", ())),
                tuple(env.get("deps", ())),
                _optional_seconds("timeout", env.get("timeout")),
                _optional_seconds("result_ttl", env.get("ttl")),
                _timestamp(env.get("at", 0.0)),
                attempt,
                False,
                False,
                env.get("sched"),
                headers or _NO_HEADERS,
            )
            if cls is not Job:  # a subclass may add fields: its own __init__ builds it
                return cls(**dict(zip(_FIELD_NAMES, values, strict=True)))
        except SerializationError:
            raise
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            raise SerializationError(f"not a job envelope: {type(exc).__name__}: {exc}") from exc
        job = object.__new__(cls)
        for set_slot, value in zip(_SLOT_SETTERS, values, strict=True):
            set_slot(job, value)
        return job

    # --- the original naq's names, until naq 1.0 (naq_core.compat) --------------------------

    @staticmethod
    async def fetch_result(
        job_id: str | Job, nats_url: str | None = None, *, timeout: float | None = None
    ) -> Any:
        """Deprecated: ``await naq_core.fetch_job_result(job_id, timeout, nats_url=...)``.

        Waits for the job's result (up to ``timeout`` seconds; ``None``: for ever), raises
        ``JobFailedError`` if it failed and ``JobNotFoundError`` if the id is unknown.
        """
        from naq_core.compat import warn_once
        from naq_core.helpers import fetch_job_result

        warn_once("Job.fetch_result()", "naq_core.fetch_job_result(job_id, timeout, nats_url=...)")
        return await fetch_job_result(job_id, timeout, nats_url=nats_url)

    @staticmethod
    def fetch_result_sync(
        job_id: str | Job, nats_url: str | None = None, *, timeout: float | None = None
    ) -> Any:
        """Deprecated: ``naq_core.fetch_job_result_sync(job_id, timeout, nats_url=...)``; blocks."""
        from naq_core.compat import warn_once
        from naq_core.helpers import fetch_job_result_sync

        warn_once("Job.fetch_result_sync()", "naq_core.fetch_job_result_sync(job_id, timeout, nats_url=...)")
        return fetch_job_result_sync(job_id, timeout, nats_url=nats_url)


#: Every field of Job, in the order from_envelope lists their values (checked at import).
_FIELD_NAMES = (
    "function",
    "args",
    "kwargs",
    "queue_name",
    "job_id",
    "max_retries",
    "retry_delay",
    "retry_strategy",
    "retry_jitter",
    "retry_on",
    "ignore_on",
    "depends_on",
    "timeout",
    "result_ttl",
    "enqueued_at",
    "attempt",
    "dedupe",
    "duplicate",
    "schedule_id",
    "headers",
)
if tuple(a.name for a in fields(Job)) != _FIELD_NAMES:  # pragma: no cover - a new field
    raise RuntimeError("Job.from_envelope does not list every field of Job")
#: Each field's slot setter, in that order: from_envelope fills a new Job through them (a
#: frozen attrs class refuses ``setattr``; its ``__init__`` would check every field again).
_SLOT_SETTERS: tuple[Callable[[Job, Any], None], ...] = tuple(Job.__dict__[n].__set__ for n in _FIELD_NAMES)


@frozen(kw_only=True)
class Outcome:
    """How one attempt ended, passed to ``naq_job_finished``."""

    status: JobStatus
    duration: float
    result: Any = None
    error_type: str | None = None
    error: str | None = None
    traceback: str | None = None
    retry_in: float | None = None
