"""A request the server's permissions refuse fails at once, naming the subject.

nats-py reports a permissions violation only through the connection's error callback, so a
refused request (a JetStream API call, a ``js.publish``) used to wait out its timeout and
say "nats: timeout". :class:`Client` is nats-py's client that remembers each violation and
fails the request waiting on that subject with one :class:`~naq_core.errors.NaqError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Any

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

from naq_core.errors import NaqError

__all__ = ["Client", "refusal"]

_VIOLATION = re.compile(r"permissions violation for (publish|subscription) to \"?([^\"'\s]+)", re.IGNORECASE)


def refusal(error: BaseException) -> tuple[str, str] | None:
    """``("publish", subject)`` or ``("subscribe", subject)`` for a permissions violation."""
    found = _VIOLATION.search(str(error))
    if found is None:
        return None
    action = "publish" if found.group(1).lower() == "publish" else "subscribe"
    return action, found.group(2)


def _message(action: str, subject: str) -> str:
    return (
        f"NATS permissions refused this user to {action} {subject!r}; "
        "grant it in the server's authorization (see docs/security.md, Permissions)"
    )


class Client(NATS):
    """nats-py's client; a request whose subject the server refuses raises :class:`NaqError`."""

    def __init__(self) -> None:
        super().__init__()
        self._waiting: dict[str, list[asyncio.Future[str]]] = {}
        #: The last refusal seen on this connection (one line), or ``None``.
        self.last_refusal: str | None = None

    def note_error(self, error: BaseException) -> None:
        """Called with every error the connection reports; remembers permission refusals."""
        found = refusal(error)
        if found is None:
            return
        # nats-py lowercases the server's error text: match subjects case-insensitively
        action, subject = found
        self.last_refusal = _message(action, subject)
        for waiter in self._waiting.pop(subject.lower(), []):
            if not waiter.done():
                waiter.set_result(action)

    async def request(
        self,
        subject: str,
        payload: bytes = b"",
        timeout: float = 0.5,
        old_style: bool = False,
        headers: dict[str, Any] | None = None,
    ) -> Msg:
        refused: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        key = subject.lower()
        self._waiting.setdefault(key, []).append(refused)
        reply = asyncio.ensure_future(
            super().request(subject, payload, timeout=timeout, old_style=old_style, headers=headers)
        )
        try:
            either: set[asyncio.Future[Any]] = {reply, refused}
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
            if refused.done() and not reply.done():
                raise NaqError(_message(refused.result(), subject))
            return await reply
        finally:
            if not reply.done():
                reply.cancel()
                with contextlib.suppress(BaseException):
                    await reply
            waiters = self._waiting.get(key, [])
            with contextlib.suppress(ValueError):
                waiters.remove(refused)
            if not waiters:
                self._waiting.pop(key, None)
