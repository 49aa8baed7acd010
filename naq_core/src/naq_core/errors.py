"""The one exception tree of naq: everything it raises derives from :class:`NaqError`."""

from __future__ import annotations

__all__ = [
    "AmbiguousJobError",
    "ConfigurationError",
    "DependencyFailedError",
    "JobFailedError",
    "JobNotFoundError",
    "JobTimeoutError",
    "NaqConnectionError",
    "NaqError",
    "NaqTimeoutError",
    "PayloadTooLargeError",
    "PluginError",
    "SerializationError",
    "ServerVersionError",
    "TaskNotFoundError",
    "UnknownSerializerError",
]


class NaqError(Exception):
    """Base class of every error naq raises."""


class ConfigurationError(NaqError):
    """A configuration value is missing or invalid; the message names the key and source."""


class UnknownSerializerError(ConfigurationError):
    """The configured serializer is not installed; the message lists the installed ones."""


class PluginError(NaqError):
    """A plugin failed to load or broke its hook contract."""


class SerializationError(NaqError):
    """A value could not be encoded or a payload could not be decoded."""


class PayloadTooLargeError(NaqError):
    """A job's message is larger than the NATS server accepts; nothing was published.

    ``job_id``, ``size`` and ``limit`` (bytes) say which job and by how much.
    """

    def __init__(self, job_id: str, function: str, size: int, limit: int) -> None:
        self.job_id = job_id
        self.function = function
        self.size = size
        self.limit = limit
        super().__init__(
            f"job {job_id} ({function}) is {size} bytes encoded, over the limit of {limit} bytes "
            "(the server's max_payload less 1 KiB for headers); pass a reference to the data "
            "(a path, a URL, an object-store key) instead of the data itself"
        )


class NaqConnectionError(NaqError):
    """Anything about reaching NATS: refused, timed out, closed, no JetStream."""


class ServerVersionError(NaqConnectionError):
    """The NATS server is too old for a feature naq needs."""


class JobNotFoundError(NaqError):
    """No job, result or status is known for the given id."""


class AmbiguousJobError(NaqError):
    """A bare job id that jobs of several queues carry; the message names the queues (give
    ``<queue>.<job id>``, or the :class:`~naq_core.job.Job`, to choose one)."""


class TaskNotFoundError(NaqError):
    """The task is not registered with this worker (never imported from a message)."""


class NaqTimeoutError(NaqError, TimeoutError):
    """An operation did not finish in time: catchable as :class:`NaqError` and as the builtin
    ``TimeoutError``.

    ``naq_core.errors.TimeoutError`` is its old name, kept as an alias.
    """


class JobTimeoutError(NaqTimeoutError):
    """Raised inside a worker when a job runs longer than its ``timeout``.

    Name it in ``retry_on`` / ``ignore_on`` to retry timeouts or not.
    """


class JobFailedError(NaqError):
    """The job ran and failed; carries the remote error type, message and traceback."""

    def __init__(
        self,
        job_id: str,
        error_type: str,
        error: str,
        traceback: str | None = None,
        status: str = "failed",
    ) -> None:
        self.job_id = job_id
        self.error_type = error_type
        self.error = error
        self.traceback = traceback
        self.status = status
        message = f"job {job_id} {status}: {error_type}: {error}"
        if traceback:
            message += f"\n\nRemote traceback:\n{traceback.rstrip()}"
        super().__init__(message)


class DependencyFailedError(JobFailedError):
    """The job never ran because a job it depends on failed."""


#: The old name of :class:`NaqTimeoutError` (it shadowed the builtin); still importable.
TimeoutError = NaqTimeoutError  # noqa: A001
