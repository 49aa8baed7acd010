"""``naq queues`` (statistics of every queue) and ``naq queue pause|resume QUEUE``."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

import click

from naq_core.cli._complete import complete_queue
from naq_core.cli._state import echo_json, get_state, run_async, table
from naq_core.cli.params import QUEUE_NAME

if TYPE_CHECKING:
    from naq_core.config import Config
    from naq_core.overview import QueueStats

__all__ = ["parse_duration", "queue", "queues"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")
_FOR_EVER = dt.timedelta(days=3650)  # a pause this long is shown as "yes", not as a date


def parse_duration(text: str) -> dt.timedelta:
    """``90`` (seconds), ``90s``, ``15m``, ``2h``, ``1d``, ``1w``, or combined: ``1h30m``."""
    text = text.strip().lower()
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        seconds = float(text)
    else:
        parts = _DURATION.findall(text)
        if not parts or "".join(n + u for n, u in parts) != text:
            raise ValueError(f"{text!r} is not a duration (examples: 90s, 15m, 2h, 1d, 1h30m)")
        seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if seconds <= 0:
        raise ValueError("the duration must be more than zero")
    return dt.timedelta(seconds=seconds)


def _local(when: dt.datetime) -> str:
    """``2030-01-31 18:00:00 CET``: the local time zone, to the second."""
    return when.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


def _paused_text(stats: QueueStats, now: dt.datetime) -> str:
    if not stats.paused:
        return "no"
    try:
        until = dt.datetime.fromisoformat(stats.paused_until or "")
    except ValueError:
        return "yes"
    if until - now > _FOR_EVER:
        return "yes"
    return f"until {_local(until)}"


async def _stats(config: Config) -> list[QueueStats]:
    from naq_core.jetstream import connect
    from naq_core.overview import queue_stats

    conn = await connect(config, name="naq-cli")
    try:
        return await queue_stats(conn)
    finally:
        await conn.close()


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one object per queue).")
@click.pass_context
def queues(ctx: click.Context, as_json: bool) -> None:
    """List every queue: jobs waiting, in flight, redelivered, workers, paused.

    JOBS counts every job stored for the queue; PENDING those no worker received yet;
    IN FLIGHT those a worker holds (running, prefetched, or waiting out a retry delay);
    PULLS the workers' open requests for jobs.
    """
    found = run_async(_stats(get_state(ctx).config()))
    if as_json:
        echo_json([stats.to_dict() for stats in found])
        return
    if not found:
        click.echo("No queues yet: nothing was enqueued and no worker has run.")
        return
    now = dt.datetime.now(dt.UTC)
    rows = [
        (
            s.queue,
            s.jobs,
            s.pending,
            s.in_flight,
            s.redelivered,
            s.workers,
            s.waiting_pulls,
            _paused_text(s, now),
        )
        for s in found
    ]
    headers = ("QUEUE", "JOBS", "PENDING", "IN FLIGHT", "REDELIVERED", "WORKERS", "PULLS", "PAUSED")
    click.echo(table(headers, rows))


@click.group()
def queue() -> None:
    """Pause and resume a queue."""


def _until(for_: str | None, until: str | None) -> dt.datetime | None:
    if for_ and until:
        raise click.UsageError("pass --for or --until, not both")
    if for_:
        try:
            return dt.datetime.now(dt.UTC) + parse_duration(for_)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="'--for'") from None
    if until:
        try:
            when = dt.datetime.fromisoformat(until)
        except ValueError:
            raise click.BadParameter(
                f"{until!r} is not an ISO 8601 time (example: 2030-01-31T18:00, local time unless "
                "it ends with Z or +HH:MM)",
                param_hint="'--until'",
            ) from None
        when = when.astimezone() if when.tzinfo is None else when
        if when <= dt.datetime.now(dt.UTC):
            raise click.BadParameter(f"{until} is in the past", param_hint="'--until'")
        return when
    return None


async def _pause(config: Config, name: str, until: dt.datetime | None) -> bool:
    from naq_core.queue import Queue

    async with Queue(name, config=config) as q:
        await q.pause(until)
        return await q.is_paused()


async def _resume(config: Config, name: str) -> bool:
    from naq_core.queue import Queue

    async with Queue(name, config=config) as q:
        await q.resume()
        return await q.is_paused()


@queue.command()
@click.argument("name", type=QUEUE_NAME, metavar="QUEUE", shell_complete=complete_queue)
@click.option("--for", "for_", metavar="DURATION", help="Resume by itself after DURATION (90s, 15m, 2h, 1d).")
@click.option("--until", metavar="TIME", help="Resume by itself at TIME (ISO 8601, e.g. 2030-01-31T18:00).")
@click.option("--json", "as_json", is_flag=True, help='Print {"queue", "paused", "until"}.')
@click.pass_context
def pause(ctx: click.Context, name: str, for_: str | None, until: str | None, as_json: bool) -> None:
    """Stop workers from receiving jobs of QUEUE (until `naq queue resume`, --for or --until).

    Jobs keep arriving and wait; jobs already running finish. Workers stay connected.
    """
    when = _until(for_, until)
    paused = run_async(_pause(get_state(ctx).config(), name, when))
    if as_json:
        data: dict[str, Any] = {"queue": name, "paused": paused, "until": when.isoformat() if when else None}
        echo_json(data)
        return
    click.echo(f"Paused queue {name} " + (f"until {_local(when)}" if when else "until `naq queue resume`"))


@queue.command()
@click.argument("name", type=QUEUE_NAME, metavar="QUEUE", shell_complete=complete_queue)
@click.option("--json", "as_json", is_flag=True, help='Print {"queue", "paused"}.')
@click.pass_context
def resume(ctx: click.Context, name: str, as_json: bool) -> None:
    """Let workers receive jobs of QUEUE again."""
    paused = run_async(_resume(get_state(ctx).config(), name))
    if as_json:
        echo_json({"queue": name, "paused": paused})
        return
    click.echo(f"Resumed queue {name}")
