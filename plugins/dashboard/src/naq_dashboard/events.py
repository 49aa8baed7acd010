"""The routes every dashboard has besides its panels: live events and health checks."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse

from naq_core.jetstream import JOBS_STREAM, RESULTS_BUCKET
from naq_core.panels import panel_host
from naq_dashboard.live import KEEPALIVE

__all__ = ["events", "healthz", "readyz"]

_READY_TIMEOUT = 3.0


async def events(request: Request) -> Response:
    """Server-sent events: ``status`` (NATS reachable or not) and ``change`` (what changed)."""
    from naq_dashboard.app import host_of

    hub = host_of(request.app).live

    async def stream() -> AsyncIterator[str]:
        yield "retry: 3000\n\n"
        async with hub.listen() as queue:
            while True:
                try:
                    event, data = await asyncio.wait_for(queue.get(), KEEPALIVE)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                yield f"event: {event}\ndata: {json.dumps(data)}\n\n"

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)


async def healthz(_: Request) -> Response:
    """The process is up (it does not look at NATS)."""
    return PlainTextResponse("ok")


async def readyz(request: Request) -> Response:
    """NATS is reachable and naq's jobs stream and results bucket exist (503 otherwise)."""
    host = panel_host(request)
    checks: dict[str, str] = {}
    try:
        async with asyncio.timeout(_READY_TIMEOUT):
            conn = await host.connection()
            checks["nats"] = "ok"
            for stream in (JOBS_STREAM, f"KV_{RESULTS_BUCKET}"):
                try:
                    await conn.js.stream_info(stream)
                    checks[stream] = "ok"
                except Exception:
                    checks[stream] = "missing"
    except Exception as exc:
        checks.setdefault("nats", f"unreachable ({type(exc).__name__})")
    ready = all(value == "ok" for value in checks.values()) and "nats" in checks
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)
