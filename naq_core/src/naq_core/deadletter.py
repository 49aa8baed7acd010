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


@frozen(kw_only=True, init=False)
class DeadLetter:
    """Everything known about a job that cannot run, including the original bytes.

    ``queue_name`` is the queue the job was on, as in :attr:`naq_core.job.Job.queue_name`.
    ``queue`` is its older name, still accepted by the constructor (where it sets
    ``queue_name``) and readable as a property (deprecated: it goes in naq 1.0).
    """

    reason: DeadLetterReason
    queue_name: str
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

    def __init__(
        self,
        *,
        reason: DeadLetterReason,
        payload: bytes,
        queue_name: str | None = None,
        queue: str | None = None,
        headers: Mapping[str, str] | None = None,
        job_id: str | None = None,
        function: str | None = None,
        error_type: str | None = None,
        error: str | None = None,
        traceback: str | None = None,
        attempts: int = 0,
        first_seen: float | None = None,
        last_seen: float = 0.0,
        worker_id: str | None = None,
        subject: str | None = None,
    ) -> None:
        if queue is not None:  # the old name wins, so attrs.evolve(letter, queue=...) still works
            queue_name = queue
        if queue_name is None:
            raise TypeError("DeadLetter() needs queue_name")
        self.__attrs_init__(
            reason=reason,
            queue_name=queue_name,
            payload=payload,
            headers={} if headers is None else headers,
            job_id=job_id,
            function=function,
            error_type=error_type,
            error=error,
            traceback=traceback,
            attempts=attempts,
            first_seen=first_seen,
            last_seen=last_seen,
            worker_id=worker_id,
            subject=subject,
        )

    @property
    def queue(self) -> str:
        """Deprecated name of :attr:`queue_name` (kept until naq 1.0)."""
        return self.queue_name


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
