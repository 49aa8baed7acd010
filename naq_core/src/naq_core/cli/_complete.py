"""Dynamic shell completion: queue names and job ids, asked from NATS.

Completion must never hang a shell or print into it: each lookup gets a short connect
timeout and an overall deadline, its output is swallowed, and any error means no
suggestions.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import click
from click.shell_completion import CompletionItem

if TYPE_CHECKING:
    from naq_core.jetstream import Connection

__all__ = ["complete_job_id", "complete_queue"]

DEADLINE = 3.0


def _lookup(ctx: click.Context, fetch: Callable[[Connection], Awaitable[list[str]]]) -> list[str]:
    from naq_core.config import load_config
    from naq_core.jetstream import connect

    params = ctx.find_root().params

    async def run() -> list[str]:
        config = load_config(
            params.get("config_path"),
            overrides={"nats_url": params.get("nats_url"), "connect_timeout": 1.0},
        )
        conn = await connect(config, name="naq-complete")
        try:
            return await fetch(conn)
        finally:
            await conn.close()

    sink = io.StringIO()
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            return asyncio.run(asyncio.wait_for(run(), DEADLINE))
    except Exception:  # no server, a bad config, a timeout: no suggestions
        return []


def complete_queue(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Queue names that have jobs stored or a consumer."""
    from naq_core.overview import queue_names

    return [CompletionItem(name) for name in _lookup(ctx, queue_names) if name.startswith(incomplete)]


def complete_job_id(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Ids of jobs with a record or still queued."""
    from naq_core.job_lookup import job_ids

    async def fetch(conn: Connection) -> list[str]:
        return await job_ids(conn, incomplete)

    return [CompletionItem(job_id) for job_id in _lookup(ctx, fetch)]
