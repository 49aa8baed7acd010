"""Helpers of the dashboard tests: a config for the test server, an app in a TestClient,
POSTs that carry the form token, and running async setup code from a sync test."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from starlette.testclient import TestClient

from naq_core.config import Config, load_config
from naq_dashboard import create_app, host_of

__all__ = ["BASE_URL", "config_for", "dashboard_client", "post", "run"]

T = TypeVar("T")

#: Where the test client says it is (the dashboard checks Origin against the Host header).
BASE_URL = "http://127.0.0.1"


def config_for(nats_url: str, **overrides: Any) -> Config:
    """naq's configuration for the test server; ``dashboard=...`` sets the dashboard's table."""
    plugins = {"dashboard": overrides.pop("dashboard")} if "dashboard" in overrides else {}
    config = load_config(env={}, search=False, overrides={"nats_url": nats_url, **overrides})
    if plugins:
        import attrs

        config = attrs.evolve(config, plugins={**config.plugins, **plugins})
    return config


@contextmanager
def dashboard_client(config: Config, *, read_only: bool | None = None, **kwargs: Any) -> Iterator[TestClient]:
    """The dashboard app in Starlette's TestClient, its lifespan run (NATS closed after)."""
    app = create_app(config, read_only=read_only)
    with TestClient(app, base_url=BASE_URL, **kwargs) as client:
        yield client


def post(client: TestClient, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """A same-origin POST as a browser sends it (``Origin`` and ``Sec-Fetch-Site``), with the form token."""
    token = host_of(client.app).csrf_token  # type: ignore[arg-type]
    headers = {"Origin": BASE_URL, "Sec-Fetch-Site": "same-origin", **kwargs.pop("headers", {})}
    return client.post(url, data={"_csrf": token, **(data or {})}, headers=headers, **kwargs)


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run async setup code (enqueue jobs, read state) from a sync test.

    On a thread of its own, so it works beside Playwright's sync API too (which keeps an
    event loop running on the test's thread).
    """
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result(timeout=120)
