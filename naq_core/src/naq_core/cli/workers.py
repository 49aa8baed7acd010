"""``naq workers``: the live workers, from their heartbeats."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import click

from naq_core.cli._state import echo_json, get_state, run_async, table

if TYPE_CHECKING:
    from naq_core.config import Config
    from naq_core.heartbeat import WorkerInfo

__all__ = ["workers"]


async def _fetch(config: Config) -> list[WorkerInfo]:
    from naq_core.heartbeat import list_workers
    from naq_core.jetstream import connect

    conn = await connect(config, name="naq-cli")
    try:
        return await list_workers(conn)
    finally:
        await conn.close()


def _ago(timestamp: float | None, now: float) -> str:
    if not timestamp:
        return "never"
    return f"{max(0, round(now - timestamp))}s ago"


def _state(info: WorkerInfo) -> str:
    """``idle``, ``busy (N)`` or ``stopping`` (with the jobs it still drains)."""
    if info.state == "busy" or (info.state == "stopping" and info.active_jobs):
        return f"{info.state} ({info.active_jobs})"
    return info.state


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one object per worker).")
@click.pass_context
def workers(ctx: click.Context, as_json: bool) -> None:
    """List the live workers, from their heartbeats.

    STATE is `idle` (no job running), `busy (N)` (N jobs running) or `stopping` (draining
    its running jobs after SIGTERM). The JSON has `state` and `active_jobs`.
    """
    config = get_state(ctx).config()
    found = run_async(_fetch(config))
    now = time.time()
    if as_json:
        rows: list[dict[str, Any]] = []
        for info in found:
            data = info.to_dict()
            data["last_beat_seconds_ago"] = round(max(0.0, now - info.last_heartbeat), 3)
            rows.append(data)
        echo_json(rows)
        return
    if not found:
        click.echo("No live workers.")
        return
    lines = [
        (
            info.worker_id,
            info.hostname,
            info.pid,
            ",".join(info.queues),
            _state(info),
            f"{len(info.current_jobs)}/{info.concurrency}",
            info.processed,
            info.failed,
            _ago(info.last_heartbeat, now),
        )
        for info in found
    ]
    headers = ("ID", "HOST", "PID", "QUEUES", "STATE", "RUNNING", "PROCESSED", "FAILED", "LAST BEAT")
    click.echo(table(headers, lines))
