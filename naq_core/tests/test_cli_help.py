"""``--help`` of every command with the first-party plugins that bring commands or answers."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from cli_support import invoke, isolated, plugins

from naq_core.cli import BUILTIN_COMMANDS, cli


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with isolated(tmp_path, monkeypatch):
        yield


def _paths(group: click.Group, ctx: click.Context, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from _paths(command, click.Context(command, parent=ctx, info_name=name), (*prefix, name))


def test_every_builtin_command_has_help_and_the_group_lists_them() -> None:
    listing = invoke("--help")
    assert listing.exit_code == 0
    for name in BUILTIN_COMMANDS:
        assert f"  {name} " in listing.stdout, name
    paths = set(_paths(cli, click.Context(cli, info_name="naq")))
    wanted = {("queue", "pause"), ("queue", "resume"), ("queues",), ("purge",)}
    wanted |= {("job", action) for action in ("show", "status", "result", "cancel", "requeue")}
    assert wanted <= paths
    for path in sorted(paths):
        result = invoke(*path, "--help")
        assert result.exit_code == 0, (path, result.output)
        assert result.stdout.startswith("Usage: naq "), path


@pytest.mark.parametrize("module", ["naq_dlq_stream", "naq_confirm_purge"])
def test_help_with_a_first_party_plugin(module: str) -> None:
    plugin = pytest.importorskip(module)
    if module == "naq_dlq_stream":
        plugin = importlib.import_module("naq_dlq_stream.plugin")
    with plugins(plugin):
        paths = list(_paths(cli, click.Context(cli, info_name="naq")))
        for path in paths:
            result = invoke(*path, "--help")
            assert result.exit_code == 0, (path, result.output)
    if module == "naq_dlq_stream":
        assert ("dlq",) in paths and ("dlq", "purge") in paths
