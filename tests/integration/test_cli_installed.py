"""The `naq` command as users get it: every built-in and plugin command answers --help."""

from __future__ import annotations

import json

import click
from click.testing import CliRunner

from naq_core.cli import cli
from naq_core.plugins import Hooks


def _paths(group: click.Group, ctx: click.Context, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        paths.append((*prefix, name))
        if isinstance(command, click.Group):
            paths.extend(_paths(command, ctx, (*prefix, name)))
    return paths


def test_every_command_answers_help(installed_hooks: Hooks) -> None:
    with click.Context(cli) as ctx:
        paths = _paths(cli, ctx)
    names = {path[0] for path in paths}
    assert {"worker", "server", "dev", "queues", "job", "purge", "schedule", "dlq", "dashboard"} <= names
    runner = CliRunner()
    for path in paths:
        result = runner.invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage:" in result.output


def test_plugins_lists_the_default_distributions(installed_hooks: Hooks) -> None:
    result = CliRunner().invoke(cli, ["--plugins", "--json"])
    assert result.exit_code == 0, result.output
    distributions = {row["distribution"] for row in json.loads(result.output)}
    assert {"naq-json-serializer", "naq-dlq-stream", "naq-confirm-purge", "naq-dashboard"} <= distributions
