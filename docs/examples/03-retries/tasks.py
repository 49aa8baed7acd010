"""Tasks of the retries example: one that fails twice then succeeds, and ones that always fail.

Run them with ``naq worker retries -t tasks`` from this folder.
"""

from __future__ import annotations

# Attempts per key, in the worker's memory: the example runs one worker, so every retry of a
# job comes back to this process. (A real task keeps such state outside the worker.)
_attempts: dict[str, int] = {}


def flaky(key: str) -> str:
    """Raise ``ConnectionError`` on the first two calls for ``key``, succeed on the third."""
    _attempts[key] = attempt = _attempts.get(key, 0) + 1
    if attempt <= 2:
        raise ConnectionError(f"attempt {attempt}: the service did not answer")
    return f"succeeded on attempt {attempt}"


def always_down() -> None:
    """A service that never answers."""
    raise ConnectionError("the service did not answer")


def forbidden() -> None:
    """An error that retrying cannot fix."""
    raise PermissionError("this account may not do that")


def bad_input(value: str) -> int:
    """Raises ``ValueError`` for anything that is not a number."""
    return int(value)
