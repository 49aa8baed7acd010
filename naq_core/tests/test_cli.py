"""The ``naq`` command line, run in-process with click's CliRunner against a real NATS."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from cli_support import Answer, invoke, isolated, one_error_line, unique

from naq_core import Queue, hookimpl, logconfig
from naq_core.cli import BUILTIN_COMMANDS, cli
from naq_core.plugins import new_plugin_manager, reset_plugin_manager
from naq_core.server import EmbeddedServer, free_port
from naq_core.testing import only_plugins


class Throwaway(Answer):
    """A plugin that adds commands and answers destructive-action confirmations."""

    def __init__(self) -> None:
        super().__init__(None)

    @hookimpl
    def naq_register_commands(self, cli: click.Group) -> None:
        @click.command("hello")
        @click.option("--name", default="world", help="Who to greet.")
        def hello(name: str) -> None:
            """Say hello (a plugin command)."""
            click.echo(f"hello, {name}")

        @click.group("tool")
        def tool() -> None:
            """A plugin group."""

        @tool.command("interrupt")
        def interrupt() -> None:
            """Behave as if Ctrl-C was pressed."""
            raise KeyboardInterrupt

        @tool.command("fail")
        def fail() -> None:
            """Raise a naq error."""
            from naq_core.errors import NaqError

            raise NaqError("the plugin command failed")

        cli.add_command(hello)
        cli.add_command(tool)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with isolated(tmp_path, monkeypatch):
        yield


@pytest.fixture
def plugin() -> Iterator[Throwaway]:
    """The json serializer plus a throwaway plugin; the previous plugin manager is restored."""
    import naq_json_serializer

    throwaway = Throwaway()
    with only_plugins(naq_json_serializer) as pm:
        pm.register(throwaway, name="throwaway")
        yield throwaway


def command_paths(
    group: click.Group, ctx: click.Context, prefix: tuple[str, ...] = ()
) -> Iterator[tuple[str, ...]]:
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from command_paths(
                command, click.Context(command, parent=ctx, info_name=name), (*prefix, name)
            )


async def _enqueue(url: str, name: str, count: int) -> None:
    async with Queue(name, url) as queue:
        for i in range(count):
            await queue.enqueue("naq_core.cli.samples:add", i, i)


async def _count(url: str, name: str) -> int:
    async with Queue(name, url) as queue:
        return await queue.count()


# --- help, version, plugins -----------------------------------------------------------


def test_help_of_every_command_builtin_and_plugin(plugin: Throwaway) -> None:
    paths = list(command_paths(cli, click.Context(cli, info_name="naq")))
    names = {path[0] for path in paths}
    assert set(BUILTIN_COMMANDS) <= names
    assert {"hello", "tool"} <= names
    assert ("tool", "interrupt") in paths
    assert ("job", "status") in paths and ("config", "show") in paths
    for path in [(), *paths]:
        result = invoke(*path, "--help")
        assert result.exit_code == 0, (path, result.output)
        assert result.stdout.startswith("Usage: "), path
    assert invoke("hello", "--name", "naq").stdout == "hello, naq\n"


class Usurper:
    @hookimpl
    def naq_register_commands(self, cli: click.Group) -> None:
        @click.command("worker")
        def fake_worker() -> None:
            """Must never replace the built-in worker."""

        cli.add_command(fake_worker)


def test_plugin_cannot_replace_a_builtin_command(plugin: Throwaway) -> None:
    reset_plugin_manager(new_plugin_manager(load_entrypoints=False, plugins=[Usurper()]))
    result = invoke("worker", "--help")
    assert result.exit_code == 0
    assert "Run jobs from QUEUE" in result.stdout
    assert "--concurrency" in result.stdout
    listing = invoke("--help")
    assert "replace the built-in command 'worker'" in listing.stderr


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("naq-core ")


def test_plugins_lists_name_distribution_version_hooks(plugin: Throwaway) -> None:
    result = invoke("--plugins")
    assert result.exit_code == 0, result.output
    line = next(line for line in result.stdout.splitlines() if line.startswith("throwaway"))
    assert "naq_register_commands" in line and "naq_confirm_destructive" in line
    assert "naq_register_serializers" in result.stdout


def test_plugins_json(plugin: Throwaway) -> None:
    for args in (["--plugins", "--json"], ["--json", "--plugins"]):
        result = invoke(*args)
        assert result.exit_code == 0, result.output
        rows = {row["name"]: row for row in json.loads(result.stdout)}
        assert rows["throwaway"]["hooks"] == ["naq_confirm_destructive", "naq_register_commands"]
        assert set(rows["throwaway"]) == {"name", "distribution", "version", "hooks"}
        assert rows["naq_core.builtin"]["distribution"] == "naq-core"


def test_json_without_plugins_is_a_usage_error() -> None:
    result = invoke("--json", "config", "show")
    assert result.exit_code == 2
    assert "--plugins" in one_error_line(result)


# --- errors --------------------------------------------------------------------------


def test_bad_option_is_one_line_exit_2() -> None:
    result = invoke("worker", "--bogus")
    assert result.exit_code == 2
    line = one_error_line(result)
    assert "--bogus" in line and "naq worker --help" in line


def test_unknown_command_is_one_line_exit_2(plugin: Throwaway) -> None:
    result = invoke("frobnicate")
    assert result.exit_code == 2
    assert "frobnicate" in one_error_line(result)


def test_unreachable_nats_names_the_url_and_naq_server(plugin: Throwaway) -> None:
    url = f"nats://127.0.0.1:{free_port()}"
    result = invoke("--nats-url", url, "workers")
    assert result.exit_code == 1
    line = one_error_line(result)
    assert url in line and "naq server" in line


def test_debug_shows_the_traceback(plugin: Throwaway) -> None:
    result = invoke("--debug", "--nats-url", f"nats://127.0.0.1:{free_port()}", "workers")
    assert result.exit_code == 1
    assert "Traceback" in result.stderr and "NaqConnectionError" in result.stderr


def test_bad_config_value_names_key_and_file(tmp_path: Path) -> None:
    path = tmp_path / "naq.toml"
    path.write_text('concurrency = "lots"\n')
    result = invoke("--config", str(path), "config", "show")
    assert result.exit_code == 1
    line = one_error_line(result)
    assert "concurrency" in line and str(path) in line


def test_naq_error_in_a_command_exits_1(plugin: Throwaway) -> None:
    result = invoke("tool", "fail")
    assert result.exit_code == 1
    assert one_error_line(result) == "Error: the plugin command failed"


def test_keyboard_interrupt_exits_130_quietly(plugin: Throwaway) -> None:
    result = invoke("tool", "interrupt")
    assert result.exit_code == 130
    assert result.stderr.strip() == ""


# --- config --------------------------------------------------------------------------


def test_config_show_json_masks_secrets_and_names_sources() -> None:
    env = {"NAQ_PASSWORD": "hunter2", "NAQ_CONCURRENCY": "7"}
    result = invoke("--nats-url", "nats://bob:s3cret@127.0.0.1:4222", "config", "show", "--json", env=env)
    assert result.exit_code == 0, result.output
    assert "hunter2" not in result.output and "s3cret" not in result.output
    data = json.loads(result.stdout)
    assert data["password"] == {"value": "***", "source": "NAQ_PASSWORD"}
    assert data["concurrency"] == {"value": 7, "source": "NAQ_CONCURRENCY"}
    assert data["nats_url"]["source"] == "argument"
    assert data["serializer"] == {"value": "json", "source": "default"}


def test_config_show_text_reads_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "naq.toml").write_text('default_queue = "emails"\ntoken = "tok"\n[dashboard]\ntoken = "x"\n')
    result = invoke("config", "show")
    assert result.exit_code == 0, result.output
    line = next(line for line in result.stdout.splitlines() if line.startswith("default_queue"))
    assert '"emails"' in line and "naq.toml" in line
    assert '"tok"' not in result.stdout and '"x"' not in result.stdout


def test_log_format_json_from_the_cli(plugin: Throwaway) -> None:
    # ``config show`` configures logging; a log event afterwards is one JSON line on stderr.
    import structlog

    @click.command("logsomething")
    def logsomething() -> None:
        from naq_core.cli import get_state

        get_state().config()
        structlog.get_logger("naq_core.test").warning("something_happened", answer=42)

    cli.add_command(logsomething)
    try:
        result = invoke("--log-format", "json", "--log-level", "warning", "logsomething")
    finally:
        cli.commands.pop("logsomething", None)
    assert result.exit_code == 0, result.output
    event = json.loads(result.stderr.strip().splitlines()[-1])
    assert event["event"] == "something_happened" and event["answer"] == 42 and event["level"] == "warning"


# --- purge ---------------------------------------------------------------------------


def test_purge_with_force_reports_the_real_count(plugin: Throwaway, nats_server: EmbeddedServer) -> None:
    name = unique()
    asyncio.run(_enqueue(nats_server.url, name, 3))
    result = invoke("--nats-url", nats_server.url, "purge", name, "-y")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"Purged 3 jobs from {name}"
    assert plugin.asked == [{"action": "purge", "target": name, "count": 3, "force": True}]
    assert asyncio.run(_count(nats_server.url, name)) == 0


def test_purge_refused_by_a_plugin(plugin: Throwaway, nats_server: EmbeddedServer) -> None:
    name = unique()
    asyncio.run(_enqueue(nats_server.url, name, 2))
    plugin.answer = False
    result = invoke("--nats-url", nats_server.url, "purge", name)
    assert result.exit_code == 2
    assert name in one_error_line(result)
    assert plugin.asked == [{"action": "purge", "target": name, "count": 2, "force": False}]
    assert asyncio.run(_count(nats_server.url, name)) == 2


def test_purge_rejects_a_bad_queue_name(plugin: Throwaway) -> None:
    result = invoke("purge", "no.dots")
    assert result.exit_code == 2  # a usage error, like every queue name on the command line
    assert "no.dots" in one_error_line(result)


# --- job -----------------------------------------------------------------------------


def test_job_status_of_a_pending_job_and_unknown_ids(plugin: Throwaway, nats_server: EmbeddedServer) -> None:
    name = unique()

    async def enqueue() -> str:
        async with Queue(name, nats_server.url) as queue:
            return (await queue.enqueue("naq_core.cli.samples:add", 1, 2)).job_id

    job_id = asyncio.run(enqueue())
    result = invoke("--nats-url", nats_server.url, "job", "status", job_id, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "pending"
    unfinished = invoke("--nats-url", nats_server.url, "job", "result", job_id)
    assert unfinished.exit_code == 1
    assert "--timeout" in one_error_line(unfinished)
    missing = invoke("--nats-url", nats_server.url, "job", "status", "nosuchjob")
    assert missing.exit_code == 1
    assert "nosuchjob" in one_error_line(missing)


def test_logconfig_leaves_an_existing_structlog_configuration_alone() -> None:
    import structlog

    with structlog.testing.capture_logs() as captured:
        assert structlog.is_configured()
        assert logconfig.configure("debug", "json") is False
        structlog.get_logger("naq_core.test").info("still_captured")
    assert captured == [{"event": "still_captured", "log_level": "info"}]
    with pytest.raises(ValueError, match="log format"):
        logconfig.configure("info", "xml")
