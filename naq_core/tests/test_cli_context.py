"""A plugin command built on the public :class:`naq_core.cli.NaqContext`."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from cli_support import invoke, isolated, one_error_line

from naq_core import Queue, hookimpl
from naq_core.cli import NaqContext, pass_naq_context
from naq_core.plugins import get_hooks


class StatsPlugin:
    """``naq stats QUEUE``: how many job messages the queue holds, as JSON."""

    @hookimpl
    def naq_register_commands(self, cli: click.Group) -> None:
        @click.command("stats")
        @click.argument("queue")
        @pass_naq_context
        def stats(ctx: NaqContext, queue: str) -> None:
            """Count the messages of QUEUE."""
            if queue == "-":
                ctx.fail("give a queue name")

            async def count() -> int:
                async with ctx.connect() as conn:
                    info = await conn.js.stream_info("naq_jobs", subjects_filter=f"naq.queue.{queue}.*")
                    assert conn.serializer.name == conn.config.serializer
                    return sum((info.state.subjects or {}).values())

            ctx.echo_json({"queue": queue, "messages": ctx.run(count()), "url": list(ctx.config.nats_url)})

        cli.add_command(stats)


@pytest.fixture(autouse=True)
def _stats(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    get_hooks().pm.register(StatsPlugin(), name="stats")
    with isolated(tmp_path, monkeypatch):
        yield


async def _three_jobs(url: str, queue: str) -> None:
    async with Queue(queue, url) as q:
        for n in range(3):
            await q.enqueue("worker_tasks:add", n, n)


@pytest.mark.parametrize("where", ["before", "after"])
def test_the_command_reads_the_global_nats_url_and_counts(nats_url: str, queue_name: str, where: str) -> None:
    asyncio.run(_three_jobs(nats_url, queue_name))
    args = ["--nats-url", nats_url, "stats", queue_name]
    if where == "after":
        args = ["stats", queue_name, "--nats-url", nats_url]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert '"messages": 3' in result.stdout
    assert f'"url": [\n    "{nats_url}"\n  ]' in result.stdout


def test_fail_is_one_error_line() -> None:
    result = invoke("stats", "-")
    assert result.exit_code == 1
    assert one_error_line(result) == "Error: give a queue name"
