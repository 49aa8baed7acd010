"""Dead letters: jobs that cannot run, and the sink contract that stores them."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from attrs import field, frozen

__all__ = ["DeadLetter", "DeadLetterReason", "DeadLetterSink"]


class DeadLetterReason(enum.StrEnum):
    """Why a message became a dead letter."""

    POISON = "poison"  # payload did not decode, or decoded into something that is not a job
    UNKNOWN_TASK = "unknown task"  # function not registered with the worker
    FAILED = "failed"  # failed with no retry asked for (max_retries=0, or retry_on/ignore_on)
    RETRIES_EXHAUSTED = "retries exhausted"  # failed, and was retried until none were left
    MAX_DELIVERIES = "max deliveries"  # workers died on it until JetStream's limit
    DEPENDENCY_FAILED = "dependency failed"


@frozen(kw_only=True)
class DeadLetter:
    """Everything known about a job that cannot run, including the original bytes."""

    reason: DeadLetterReason
    queue: str
    payload: bytes
    headers: Mapping[str, str] = field(factory=dict)
    job_id: str | None = None
    function: str | None = None
    error_type: str | None = None
    error: str | None = None
    traceback: str | None = None
    attempts: int = 0
    first_seen: float | None = None  # unix time the job was enqueued, when known
    last_seen: float = 0.0  # unix time it was dead-lettered
    worker_id: str | None = None
    subject: str | None = None


@runtime_checkable
class DeadLetterSink(Protocol):
    """Stores dead letters. Registered through ``naq_register_dead_letter_sinks``.

    ``store`` must return only once the letter is durable: the worker removes the message
    from its queue right after every sink returned. Raising keeps the message in the queue:
    it is NAKed with a 5 s delay and handled again (a failed job then runs once more).
    """

    name: str

    async def store(self, letter: DeadLetter) -> None:
        """Persist ``letter``."""
        ...
