"""The dashboard's guard: authentication, cross-site refusal, read-only, security headers.

One ASGI middleware in front of every route, so no page or panel can forget a rule:

* **Authentication** when a token or a user name and password are configured: HTTP basic
  auth (the browser asks; with a token, any user name and the token as password) or
  ``Authorization: Bearer <token>``, compared in constant time. ``/healthz`` and
  ``/readyz`` stay open (they tell nothing but "up" and "ready").
* **Every change is a POST** (any method but GET/HEAD/OPTIONS) and is refused when:
  the dashboard is read-only; the browser says the request is cross-site
  (``Sec-Fetch-Site`` other than ``same-origin``/``none``); its ``Origin`` is not the
  dashboard's own; or it carries neither header and no valid token (``X-NAQ-CSRF`` header,
  ``_csrf`` form field, or a bearer token).
* **Headers**: a Content Security Policy without inline scripts or styles, no framing,
  ``nosniff``, ``no-store``; never a CORS header.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

from naq_dashboard.settings import DashboardSettings

__all__ = ["CSP", "OPEN_PATHS", "Guard"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'"
)
#: Paths (below the app's root) that need no authentication.
OPEN_PATHS = frozenset({"/healthz", "/readyz"})
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_SAME_SITE = frozenset({"same-origin", "none"})
#: The largest form body read to find ``_csrf`` (a dashboard form is a few hundred bytes).
_MAX_FORM = 64 * 1024


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


class Guard:
    """The middleware (see the module text); ``csrf_token`` is the app's form token."""

    def __init__(
        self, app: ASGIApp, *, settings: DashboardSettings, read_only: bool, csrf_token: str
    ) -> None:
        self.app = app
        self.settings = settings
        self.read_only = read_only
        self.csrf_token = csrf_token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        root = scope.get("root_path", "")
        local = path[len(root) :] if root and path.startswith(root) else path
        if local not in OPEN_PATHS and not self._authenticated(scope):
            await _plain(send, 401, "Authentication required.", {"www-authenticate": 'Basic realm="naq"'})
            return
        if scope["method"] not in _SAFE_METHODS:
            refusal, receive = await self._refusal(scope, receive)
            if refusal:
                await _plain(send, 403, refusal)
                return
        await self.app(scope, receive, _with_headers(send))

    # --- authentication --------------------------------------------------------------

    def _authenticated(self, scope: Scope) -> bool:
        if not self.settings.has_auth:
            return True
        auth = _header(scope, b"authorization") or ""
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer":
            return self._token_ok(value.strip())
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        if self.settings.username and self.settings.password:
            user_ok = _same(user, self.settings.username)
            password_ok = _same(password, self.settings.password)
            if user_ok and password_ok:
                return True
        return self._token_ok(password)

    def _token_ok(self, value: str) -> bool:
        return bool(self.settings.token) and _same(value, self.settings.token or "")

    # --- actions ---------------------------------------------------------------------

    async def _refusal(self, scope: Scope, receive: Receive) -> tuple[str | None, Receive]:
        if self.read_only:
            return "This dashboard is read-only: actions are turned off.", receive
        fetch_site = _header(scope, b"sec-fetch-site")
        if fetch_site is not None and fetch_site not in _SAME_SITE:
            return "Cross-site request refused.", receive
        origin = _header(scope, b"origin")
        if origin is not None and origin != "null" and not _same(origin, _own_origin(scope)):
            return "Cross-origin request refused.", receive
        if origin == "null":
            return "Cross-origin request refused.", receive
        if fetch_site is not None or origin is not None:
            return None, receive
        # Neither header: not a current browser. It must prove it read a page or holds the token.
        header_token = _header(scope, b"x-naq-csrf")
        if header_token is not None and _same(header_token, self.csrf_token):
            return None, receive
        auth = _header(scope, b"authorization") or ""
        if auth.lower().startswith("bearer ") and self._token_ok(auth[7:].strip()):
            return None, receive
        body, replay = await _read_body(receive)
        content_type = _header(scope, b"content-type") or ""
        if body is not None and content_type.startswith("application/x-www-form-urlencoded"):
            sent = parse_qs(body.decode("latin-1")).get("_csrf", [""])[0]
            if sent and _same(sent, self.csrf_token):
                return None, replay
        return "Missing or wrong CSRF token (send the X-NAQ-CSRF header or the form's _csrf field).", replay


def _own_origin(scope: Scope) -> str:
    host = _header(scope, b"host") or ""
    return f"{scope.get('scheme', 'http')}://{host}"


async def _read_body(receive: Receive) -> tuple[bytes | None, Receive]:
    """The request body (``None`` if larger than a form may be) and a receive that replays it."""
    chunks: list[bytes] = []
    size = 0
    messages: list[Message] = []
    more = True
    while more:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        chunks.append(chunk)
        more = message.get("more_body", False)
        if size > _MAX_FORM:
            break
    body = b"".join(chunks) if size <= _MAX_FORM and not more else None

    async def replay() -> Message:
        if messages:
            return messages.pop(0)
        return await receive()

    return body, replay


def _with_headers(send: Send) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [
                (k, v) for k, v in message.get("headers", []) if not k.lower().startswith(b"access-control-")
            ]
            names = {k.lower() for k, _ in headers}
            extra = {
                b"content-security-policy": CSP.encode(),
                b"x-content-type-options": b"nosniff",
                b"x-frame-options": b"DENY",
                b"referrer-policy": b"same-origin",
            }
            if b"cache-control" not in names:
                extra[b"cache-control"] = b"no-store"
            headers += [(k, v) for k, v in extra.items() if k not in names]
            message = {**message, "headers": headers}
        await send(message)

    return wrapped


async def _plain(send: Send, status: int, text: str, headers: dict[str, str] | None = None) -> None:
    body = (text + "\n").encode()
    raw = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await _with_headers(send)({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
