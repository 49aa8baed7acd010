"""``naq dlq``: list, show, requeue, delete and purge dead letters.

Errors are one line on stderr (the ``naq`` group turns a ``NaqError`` into ``Error: ...``,
exit 1); a purge that is not confirmed exits 2; ``--json`` prints JSON on stdout.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import click

from naq_core.cli import NaqContext, pass_naq_context, require_confirmation, table
from naq_core.cli.params import QUEUE_NAME
from naq_core.deadletter import DeadLetterReason
from naq_core.queue import Queue
from naq_dlq_stream._codec import StoredLetter
from naq_dlq_stream.filters import LetterFilter, parse_reason, parse_when
from naq_dlq_stream.store import DeadLetterStore

__all__ = ["dlq"]

T = TypeVar("T")
_PREVIEW = 2000


def _run(ctx: NaqContext, action: Callable[[DeadLetterStore], Awaitable[T]]) -> T:
    """Run ``action`` with a store on a fresh connection (closed afterwards)."""

    async def main() -> T:
        async with Queue(config=ctx.config) as queue:
            return await action(DeadLetterStore(await queue.connection()))

    return ctx.run(main())


def _when(timestamp: float | None) -> str:
    if timestamp is None:
        return "-"
    return dt.datetime.fromtimestamp(timestamp).isoformat(sep=" ", timespec="seconds")


def _short(text: str | None, width: int = 60) -> str:
    text = (text or "-").replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def _plural(n: int, word: str = "dead letter") -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _filters(func: Callable[..., Any]) -> Callable[..., Any]:
    """The shared filter options: --queue, --reason, --function, --since, --until."""
    reasons = ", ".join(r.value for r in DeadLetterReason)
    options = [
        click.option("--queue", type=QUEUE_NAME, metavar="NAME", help="Only letters of this queue."),
        click.option("--reason", metavar="REASON", help=f"Only this reason ({reasons})."),
        click.option("--function", metavar="NAME", help="Only this task (module:function)."),
        click.option(
            "--since", metavar="WHEN", help="Dead-lettered at or after WHEN: ISO 8601, or ago (1h, 2d)."
        ),
        click.option("--until", metavar="WHEN", help="Dead-lettered before WHEN: ISO 8601, or ago (30m)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _filter(
    queue: str | None, reason: str | None, function: str | None, since: str | None, until: str | None
) -> LetterFilter:
    return LetterFilter(
        queue=queue,
        reason=parse_reason(reason) if reason else None,
        function=function,
        since=parse_when(since) if since else None,
        until=parse_when(until) if until else None,
    )


@click.group()
def dlq() -> None:
    """Dead letters: jobs that could not run (naq-dlq-stream).

    Letters are kept on the JetStream stream naq_dlq; see docs/dead-letters.md.
    """


@dlq.command("list")
@_filters
@click.option(
    "--limit", type=click.IntRange(min=0), default=100, show_default=True, help="Newest N (0: all)."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one object per letter, no payload).")
@pass_naq_context
def list_(ctx: NaqContext, /, as_json: bool, limit: int, **filters: str | None) -> None:
    """List dead letters, oldest first."""
    where = _filter(**filters)
    found = _run(ctx, lambda store: store.list(where, limit=limit or None))
    if as_json:
        ctx.echo_json([stored.to_dict() for stored in found])
        return
    if not found:
        click.echo(f"No dead letters ({where.describe()}).")
        return
    rows = [
        (
            s.id,
            s.letter.queue_name,
            s.letter.reason.value,
            s.letter.function or "-",
            s.letter.attempts,
            _when(s.letter.last_seen),
            _short(f"{s.letter.error_type}: {s.letter.error}" if s.letter.error_type else s.letter.error),
        )
        for s in found
    ]
    click.echo(table(("ID", "QUEUE", "REASON", "FUNCTION", "ATTEMPTS", "DEAD SINCE", "ERROR"), rows))


def _preview(payload: bytes) -> str:
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        text = repr(payload[: _PREVIEW // 2])
        return text + (" …" if len(payload) > _PREVIEW // 2 else "")
    return text[:_PREVIEW] + (" …" if len(text) > _PREVIEW else "")


def _show(stored: StoredLetter) -> None:
    letter = stored.letter
    error = f"{letter.error_type}: {letter.error}" if letter.error_type else letter.error
    fields: list[tuple[str, object]] = [
        ("id", stored.id),
        ("reason", letter.reason.value),
        ("queue", letter.queue_name),
        ("job", letter.job_id or "-"),
        ("function", letter.function or "-"),
        ("attempts", letter.attempts),
        ("enqueued", _when(letter.first_seen)),
        ("dead since", _when(letter.last_seen)),
        ("worker", letter.worker_id or "-"),
        ("subject", letter.subject or "-"),
        ("error", error or "-"),
    ]
    for key, value in fields:
        click.echo(f"{key + ':':<12}{value}")
    if letter.headers:
        click.echo("headers:")
        for key, value in letter.headers.items():
            click.echo(f"  {key}: {value}")
    if letter.traceback:
        click.echo("traceback:")
        click.echo("  " + letter.traceback.rstrip().replace("\n", "\n  "))
    size = f"{len(letter.payload)} bytes"
    if stored.payload_truncated is not None:
        size += f", cut from {stored.payload_truncated}"
    click.echo(f"payload ({size}):")
    click.echo("  " + _preview(letter.payload).replace("\n", "\n  "))


@dlq.command()
@click.argument("letter_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print every field as JSON (payload in base64).")
@pass_naq_context
def show(ctx: NaqContext, letter_id: str, as_json: bool) -> None:
    """Show one dead letter: error, traceback, headers and a payload preview."""
    stored = _run(ctx, lambda store: store.get(letter_id))
    if as_json:
        ctx.echo_json(stored.to_dict(payload=True))
    else:
        _show(stored)


@dlq.command()
@click.argument("ids", nargs=-1, metavar="[ID]...")
@_filters
@click.option("--all", "everything", is_flag=True, help="Requeue every letter (that matches the filters).")
@pass_naq_context
def requeue(ctx: NaqContext, /, ids: tuple[str, ...], everything: bool, **filters: str | None) -> None:
    """Put jobs back on their queues: same job id, attempts start again.

    Give IDs, or filters, or --all.
    """
    where = _filter(**filters)
    if ids and (everything or not where.empty):
        raise click.UsageError("give IDs, or filters / --all, not both")
    if not ids and where.empty and not everything:
        raise click.UsageError("give IDs, a filter (--queue, --reason, ...) or --all")
    target: Sequence[str] | LetterFilter = list(ids) if ids else where
    done = _run(ctx, lambda store: store.requeue(target))
    click.echo(f"Requeued {_plural(len(done))}")


@dlq.command()
@click.argument("ids", nargs=-1, required=True, metavar="ID...")
@pass_naq_context
def delete(ctx: NaqContext, ids: tuple[str, ...]) -> None:
    """Delete dead letters by id (all of them exist, or nothing is deleted)."""
    count = _run(ctx, lambda store: store.delete(ids))
    click.echo(f"Deleted {_plural(count)}")


@dlq.command()
@_filters
@click.option("-y", "--force", is_flag=True, help="Do not ask for confirmation.")
@pass_naq_context
def purge(ctx: NaqContext, /, force: bool, **filters: str | None) -> None:
    """Delete every dead letter matching the filters (all without filters).

    Plugins decide whether to ask first (naq-confirm-purge asks unless -y is given).
    """
    where = _filter(**filters)
    target = where.describe()
    count = _run(ctx, lambda store: store.count(where))
    require_confirmation(action="dlq purge", target=target, count=count, force=force, noun="dead letters")
    deleted = _run(ctx, lambda store: store.purge(where))
    click.echo(f"Purged {_plural(deleted)} ({target})")
