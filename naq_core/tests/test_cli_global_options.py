"""Global options (``--nats-url``, ``--config``, ``--log-level``, ``--log-format``, ``--debug``)
work after any subcommand too, with the same precedence as before it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from cli_support import invoke, isolated, one_error_line, plugins

from naq_core import _deprecation, hookimpl
from naq_core.cli import get_state
from naq_core.server import free_port


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with isolated(tmp_path, monkeypatch):
        yield


def _shown(*args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    result = invoke(*args, env=env)
    assert result.exit_code == 0, result.output
    shown: dict[str, Any] = json.loads(result.stdout)
    return shown


def test_every_global_option_after_a_nested_subcommand(tmp_path: Path) -> None:
    (tmp_path / "other.toml").write_text("concurrency = 3\n")
    shown = _shown(
        "config",
        "show",
        "--json",
        "--nats-url",
        "nats://after:1",
        "--log-level",
        "DEBUG",
        "--log-format",
        "JSON",
        "--config",
        str(tmp_path / "other.toml"),
        "--debug",
    )
    assert shown["nats_url"] == {"value": ["nats://after:1"], "source": "argument"}
    assert shown["log_level"] == {"value": "debug", "source": "argument"}
    assert shown["log_format"] == {"value": "json", "source": "argument"}
    assert shown["concurrency"] == {"value": 3, "source": str(tmp_path / "other.toml")}


def test_between_group_and_subcommand_too() -> None:
    shown = _shown("config", "--nats-url", "nats://middle:1", "show", "--json")
    assert shown["nats_url"]["value"] == ["nats://middle:1"]


def test_same_precedence_after_the_subcommand() -> None:
    env = {"NAQ_NATS_URL": "nats://env:1", "NAQ_LOG_LEVEL": "error"}
    shown = _shown("config", "show", "--json", "--nats-url", "nats://flag:1", env=env)
    assert shown["nats_url"] == {"value": ["nats://flag:1"], "source": "argument"}
    assert shown["log_level"] == {"value": "error", "source": "NAQ_LOG_LEVEL"}
    both = _shown("--nats-url", "nats://before:1", "config", "show", "--json", "--nats-url", "nats://after:1")
    assert both["nats_url"]["value"] == ["nats://after:1"]  # the last one given wins
    before = _shown("--log-level", "warning", "config", "show", "--json")
    assert before["log_level"] == {"value": "warning", "source": "argument"}


def test_a_real_command_uses_the_url_given_after_it(nats_url: str) -> None:
    result = invoke("queues", "--json", "--nats-url", nats_url)
    assert result.exit_code == 0, result.output
    assert isinstance(json.loads(result.stdout), list)


def test_job_status_with_url_and_debug_after_it() -> None:
    url = f"nats://127.0.0.1:{free_port()}"
    result = invoke("job", "status", "some-id", "--nats-url", url, "--debug")
    assert result.exit_code == 1, result.output
    assert url in result.stderr
    assert "Traceback" in result.stderr  # --debug after the subcommand shows it too
    quiet = invoke("job", "status", "some-id", "--nats-url", url)
    assert url in one_error_line(quiet)


def test_worker_takes_global_options_after_its_queue() -> None:
    url = f"nats://127.0.0.1:{free_port()}"
    result = invoke("worker", "default", "--nats-url", url, "--log-level", "debug", "--connect-timeout", "1")
    assert result.exit_code == 2  # worker has no --connect-timeout: the parse went that far
    assert "--connect-timeout" in one_error_line(result)
    result = invoke("worker", "default", "--log-level", "loud")
    assert result.exit_code == 2
    assert "'loud' is not one of" in one_error_line(result)


def test_a_wrong_option_after_a_subcommand_is_one_line_exit_2() -> None:
    result = invoke("config", "show", "--nats-urll", "nats://x:1")
    assert result.exit_code == 2
    line = one_error_line(result)
    assert "--nats-urll" in line and "naq config show --help" in line


def test_help_after_a_subcommand_lists_the_global_options() -> None:
    for path in (("worker",), ("job", "status"), ("config",)):
        result = invoke(*path, "--help")
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith(f"Usage: naq {' '.join(path)}")
        for option in ("--nats-url", "--config", "--log-level", "--log-format", "--debug"):
            assert option in result.stdout, (path, option)
    top = invoke("--help")
    assert top.exit_code == 0 and "--nats-url" in top.stdout


class Greeter:
    @hookimpl
    def naq_register_commands(self, cli: click.Group) -> None:
        @click.group("greet")
        def greet() -> None:
            """A plugin group."""

        @greet.command("url")
        def url() -> None:
            """Print the NATS URL the configuration gives."""
            click.echo(",".join(get_state().config().nats_url))

        cli.add_command(greet)


def test_plugin_commands_take_them_too() -> None:
    with plugins(Greeter()):
        result = invoke("greet", "url", "--nats-url", "nats://plugin:1")
        assert result.exit_code == 0, result.output
        assert result.stdout == "nats://plugin:1\n"
        assert invoke("greet", "url", "--help").exit_code == 0


def test_the_cli_names_an_old_variable_on_stderr() -> None:
    _deprecation._warned.clear()
    try:
        result = invoke("config", "show", "--json", env={"NAQ_DEFAULT_ACK_WAIT": "45"})
    finally:
        _deprecation._warned.clear()
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["ack_wait"] == {"value": 45.0, "source": "NAQ_DEFAULT_ACK_WAIT"}
    assert "Warning: NAQ_DEFAULT_ACK_WAIT is deprecated" in result.stderr
    assert "NAQ_ACK_WAIT" in result.stderr


def test_a_bad_log_level_is_still_one_line_from_the_cli() -> None:
    result = invoke("config", "show", env={"NAQ_LOG_LEVEL": "loud"})
    assert result.exit_code == 1
    assert one_error_line(result).startswith("Error: NAQ_LOG_LEVEL: log_level: must be in")
