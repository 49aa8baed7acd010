"""``naq dlq ...`` through the real ``naq`` group (CliRunner), against a real server."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result
from dlq_support import (
    dlq_store,
    isolated_cli,  # noqa: F401 (an autouse fixture)
)

from naq_core import DeadLetterReason, Queue, hookimpl
from naq_core.cli import cli
from naq_core.plugins import get_hooks
from naq_core.testing.sink_contract import sample_letter
from naq_dlq_stream import LetterFilter


class AskingPlugin:
    """Answers like a confirming plugin: yes with --force, no when there is no terminal."""

    def __init__(self) -> None:
        self.asked: list[dict[str, Any]] = []

    @hookimpl
    def naq_confirm_destructive(self, action: str, target: str, count: int | None, force: bool) -> bool:
        self.asked.append({"action": action, "target": target, "count": count, "force": force})
        return force or sys.stdin.isatty()


@pytest.fixture
def asking() -> AskingPlugin:
    plugin = AskingPlugin()
    get_hooks().pm.register(plugin, name="asking")
    return plugin


def invoke(url: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--nats-url", url, "dlq", *args], catch_exceptions=False)


def one_error_line(result: Result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def _add(url: str, queue: str, count: int, **changes: Any) -> list[str]:
    async def main() -> list[str]:
        async with dlq_store(url) as store:
            return [await store.add(sample_letter(queue=queue, **changes)) for _ in range(count)]

    return asyncio.run(main())


def _count(url: str, queue: str) -> int:
    async def main() -> int:
        async with dlq_store(url) as store:
            return await store.count(LetterFilter(queue=queue))

    return asyncio.run(main())


def test_every_dlq_command_has_help() -> None:
    ctx = click.Context(cli)
    group = cli.get_command(ctx, "dlq")
    assert isinstance(group, click.Group)
    for name in ["", *group.list_commands(ctx)]:
        args = ["dlq", name, "--help"] if name else ["dlq", "--help"]
        result = CliRunner().invoke(cli, args, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert "Usage:" in result.stdout
    assert set(group.list_commands(ctx)) == {"list", "show", "requeue", "delete", "purge"}


def test_list_json_and_table(nats_url: str, queue_name: str) -> None:
    ids = _add(nats_url, queue_name, 2)
    _add(nats_url, queue_name, 1, reason=DeadLetterReason.POISON, job_id=None)
    result = invoke(nats_url, "list", "--json", "--queue", queue_name, "--reason", "retries exhausted")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [row["id"] for row in rows] == ids
    assert rows[0]["reason"] == "retries exhausted" and rows[0]["queue"] == queue_name
    assert "payload_base64" not in rows[0] and rows[0]["payload_size"] > 0

    table = invoke(nats_url, "list", "--queue", queue_name, "--since", "1h")
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert lines[0].split()[:3] == ["ID", "QUEUE", "REASON"] and len(lines) == 4
    assert "poison" in table.stdout and "ValueError: adresse" in table.stdout

    none = invoke(nats_url, "list", "--queue", queue_name, "--until", "2000-01-01")
    assert none.exit_code == 0 and "No dead letters (queue=" in none.stdout


def test_bad_filter_is_one_line(nats_url: str) -> None:
    result = invoke(nats_url, "list", "--reason", "bogus")
    assert result.exit_code == 1
    assert "unknown reason 'bogus'" in one_error_line(result)
    result = invoke(nats_url, "list", "--since", "yesterday")
    assert result.exit_code == 1 and "invalid time" in one_error_line(result)


def test_show(nats_url: str, queue_name: str) -> None:
    [ident] = _add(nats_url, queue_name, 1)
    result = invoke(nats_url, "show", ident)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"id:         {ident}" in out and "reason:     retries exhausted" in out
    assert "traceback:\n  Traceback (most recent call last):" in out
    assert "payload (" in out and "X-Request-Id: req-" in out

    as_json = invoke(nats_url, "show", ident, "--json")
    data = json.loads(as_json.stdout)
    assert data["id"] == ident and data["traceback"].startswith("Traceback")
    assert data["payload_base64"].startswith("//4A")  # b"\xff\xfe\x00"

    missing = invoke(nats_url, "show", "nope")
    assert missing.exit_code == 1 and "no dead letter 'nope'" in one_error_line(missing)


def test_requeue_puts_the_original_bytes_back(nats_url: str, queue_name: str) -> None:
    ids = _add(nats_url, queue_name, 3, subject=None)
    result = invoke(nats_url, "requeue", ids[0])
    assert result.exit_code == 0, result.output
    assert "Requeued 1 dead letter" in result.stdout

    async def queued() -> dict[str, bytes]:
        async with Queue(queue_name, nats_url) as q:
            conn = await q.connection()
            info = await conn.js.stream_info("naq_jobs", subjects_filter=f"naq.queue.{queue_name}.*")
            subjects = list(info.state.subjects or {})
            return {s: (await conn.js.get_msg("naq_jobs", subject=s)).data or b"" for s in subjects}

    messages = asyncio.run(queued())
    assert list(messages) == [f"naq.queue.{queue_name}.{ids[0]}"]
    assert next(iter(messages.values())).startswith(b"\xff\xfe\x00\x80naq")
    assert _count(nats_url, queue_name) == 2

    usage = invoke(nats_url, "requeue")
    assert usage.exit_code == 2 and "--all" in one_error_line(usage)
    everything = invoke(nats_url, "requeue", "--queue", queue_name)
    assert everything.exit_code == 0 and "Requeued 2 dead letters" in everything.stdout
    assert _count(nats_url, queue_name) == 0


def test_delete(nats_url: str, queue_name: str) -> None:
    ids = _add(nats_url, queue_name, 3)
    missing = invoke(nats_url, "delete", ids[0], "nope")
    assert missing.exit_code == 1 and "nope" in one_error_line(missing)
    assert _count(nats_url, queue_name) == 3
    result = invoke(nats_url, "delete", *ids[:2])
    assert result.exit_code == 0 and "Deleted 2 dead letters" in result.stdout
    assert _count(nats_url, queue_name) == 1


def test_purge_asks_and_is_refused_without_a_terminal(
    nats_url: str, queue_name: str, asking: AskingPlugin
) -> None:
    _add(nats_url, queue_name, 2)
    refused = invoke(nats_url, "purge", "--queue", queue_name)
    assert refused.exit_code == 2
    line = one_error_line(refused)
    assert "not confirmed" in line and "2 dead letters" in line and f"queue={queue_name}" in line
    assert asking.asked == [
        {"action": "dlq purge", "target": f"queue={queue_name}", "count": 2, "force": False}
    ]
    assert _count(nats_url, queue_name) == 2

    forced = invoke(nats_url, "purge", "--queue", queue_name, "-y")
    assert forced.exit_code == 0, forced.output
    assert f"Purged 2 dead letters (queue={queue_name})" in forced.stdout
    assert _count(nats_url, queue_name) == 0
