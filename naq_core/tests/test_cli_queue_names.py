"""A queue name given to any ``naq`` command is checked like ``Queue`` checks it.

A bad name is a usage error before anything connects: one line naming it, exit code 2.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from cli_support import invoke, isolated, one_error_line

from naq_core.cli import cli
from naq_core.cli.params import QUEUE_NAME

NOWHERE = "nats://127.0.0.1:1"  # nothing listens: a command that got past parsing fails otherwise

COMMANDS = [
    ("job", "requeue", "--failed", "-q", "{bad}"),
    ("purge", "{bad}"),
    ("purge", "ok-queue", "{bad}"),
    ("schedule", "list", "--queue", "{bad}"),
    ("schedule", "cancel", "--all", "-q", "{bad}"),
    ("queue", "pause", "{bad}"),
    ("queue", "resume", "{bad}"),
    ("worker", "{bad}"),
]


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with isolated(tmp_path, monkeypatch):
        yield


@pytest.mark.parametrize("bad", ["no.dots", "with space", "star*", "ünï", "x" * 129])
@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a))
def test_a_bad_queue_name_is_a_usage_error(args: tuple[str, ...], bad: str) -> None:
    result = invoke("--nats-url", NOWHERE, *(a.format(bad=bad) for a in args))
    assert result.exit_code == 2, result.output
    line = one_error_line(result)
    assert "invalid queue name" in line and repr(bad) in line


def test_every_queue_parameter_uses_the_shared_type() -> None:
    """Any option or argument named like a queue, on any built-in command, is a QUEUE_NAME."""
    seen: list[str] = []

    def walk(command: click.Command, path: str) -> None:
        ctx = click.Context(command)
        for param in command.params:
            if "queue" in (param.name or "") and param.name not in ("default_queue",):
                assert param.type is QUEUE_NAME, f"{path} {param.name}"
                seen.append(f"{path} {param.name}")
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                if sub is not None:
                    walk(sub, f"{path} {name}")

    walk(cli, "naq")
    assert {"naq purge queues", "naq worker queues", "naq job requeue queue_name"} <= set(seen)
