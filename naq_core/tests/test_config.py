"""Configuration sources, precedence and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from naq_core import Queue
from naq_core.config import find_config_file, load_config
from naq_core.errors import ConfigurationError, NaqConnectionError, UnknownSerializerError
from naq_core.plugins import get_hooks
from naq_core.server import free_port


def test_defaults() -> None:
    config = load_config(search=False, env={})
    assert config.nats_url == ("nats://127.0.0.1:4222",)
    assert config.serializer == "json"
    assert config.default_queue == "naq_default_queue"
    assert config.concurrency == 10
    assert config.sources == {}


def test_precedence_file_env_argument(tmp_path: Path) -> None:
    path = tmp_path / "naq.toml"
    path.write_text('concurrency = 4\nshutdown_timeout = 7\ndefault_queue = "files"\n[dashboard]\nport = 9\n')
    env = {"NAQ_CONCURRENCY": "6", "NAQ_DEFAULT_QUEUE": "envq"}
    config = load_config(path, env=env, overrides={"concurrency": 8, "nats_url": None})
    assert config.concurrency == 8
    assert config.default_queue == "envq"
    assert config.shutdown_timeout == 7.0
    assert config.sources == {
        "concurrency": "argument",
        "default_queue": "NAQ_DEFAULT_QUEUE",
        "shutdown_timeout": str(path),
    }
    assert config.plugin_config("dashboard") == {"port": 9}


def test_pyproject_table_is_found_upwards(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.naq]\nserializer = "pickle"\n')
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    monkeypatch.chdir(nested)
    monkeypatch.delenv("NAQ_CONFIG", raising=False)
    assert find_config_file() == tmp_path / "pyproject.toml"
    assert load_config(env={}).serializer == "pickle"


def test_naq_config_env_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NAQ_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigurationError, match=r"missing\.toml"):
        find_config_file()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("concurrency = 0", "naq.toml: concurrency: must be >= 1"),
        ('concurrency = "ten"', "naq.toml: concurrency: expected a whole number, got 'ten'"),
        ('log_format = "xml"', "naq.toml: log_format: must be in"),
        ('nats_url = "http://x"', "naq.toml: nats_url: expected a URL like nats://"),
        ('default_queue = "a.b"', "naq.toml: default_queue: expected letters"),
        ("concurency = 3", "naq.toml: unknown key 'concurency'"),
        ("concurrency = [", "naq.toml: not valid TOML"),
    ],
)
def test_bad_values_name_key_and_file(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "naq.toml"
    path.write_text(content + "\n")
    with pytest.raises(ConfigurationError) as info:
        load_config(path, env={}, for_cli=True)
    message = str(info.value)
    assert expected in message
    assert "\n" not in message


def test_bad_env_value_names_the_variable() -> None:
    with pytest.raises(ConfigurationError, match="NAQ_ACK_WAIT: ack_wait: expected a number"):
        load_config(search=False, env={"NAQ_ACK_WAIT": "soon"})


def test_urls_and_tasks_from_comma_lists() -> None:
    config = load_config(search=False, env={"NAQ_NATS_URL": "nats://a:1, nats://b:2", "NAQ_TASKS": "x.y,z"})
    assert config.nats_url == ("nats://a:1", "nats://b:2")
    assert config.tasks == ("x.y", "z")


def test_secrets_are_masked() -> None:
    config = load_config(
        search=False,
        env={},
        overrides={"password": "hunter2", "token": "t0k", "nats_url": "nats://u:pw@127.0.0.1:4222"},
    )
    shown = config.masked()
    assert shown["password"] == "***" and shown["token"] == "***"
    assert "pw" not in str(shown["nats_url"]) and "hunter2" not in repr(config)


def test_unknown_serializer_names_the_installed_ones() -> None:
    with pytest.raises(
        UnknownSerializerError, match="unknown serializer 'yaml'; installed serializers: json"
    ):
        get_hooks().serializer("yaml")


async def test_unreachable_server_names_url_and_suggests_naq_server() -> None:
    url = f"nats://127.0.0.1:{free_port()}"
    q = Queue("x", url, connect_timeout=1)
    with pytest.raises(NaqConnectionError) as info:
        await q.enqueue("m:f")
    assert url in str(info.value) and "naq server" in str(info.value)


def test_max_retries_beyond_max_deliver_is_refused() -> None:
    q = Queue("x", max_deliver=5)
    with pytest.raises(ValueError, match="max_deliver"):
        q.prepare("m:f", max_retries=5)


def test_invalid_queue_names_are_refused() -> None:
    for bad in ("a.b", "sp ace", "star*", "emails\n", "emails\r\n"):
        with pytest.raises(ConfigurationError):
            Queue(bad)


@pytest.mark.parametrize(
    ("env", "key", "expected"),
    [
        ({"NAQ_LOG_LEVEL": "DEBUG"}, "log_level", "debug"),
        ({"NAQ_LOG_LEVEL": " Warning "}, "log_level", "warning"),
        ({"NAQ_LOG_FORMAT": "JSON"}, "log_format", "json"),
        ({"NAQ_SERIALIZER": "Pickle"}, "serializer", "pickle"),
    ],
)
def test_names_from_a_fixed_set_are_read_in_any_case(env: dict[str, str], key: str, expected: str) -> None:
    config = load_config(search=False, env=env)
    assert getattr(config, key) == expected
    assert config.sources[key] == next(iter(env))


def test_names_in_any_case_from_the_file_and_from_arguments(tmp_path: Path) -> None:
    path = tmp_path / "naq.toml"
    path.write_text('log_level = "ERROR"\nlog_format = "Json"\nserializer = "JSON"\n')
    config = load_config(path, env={})
    assert (config.log_level, config.log_format, config.serializer) == ("error", "json", "json")
    flagged = load_config(path, env={}, overrides={"log_level": "CRITICAL", "log_format": "CONSOLE"})
    assert (flagged.log_level, flagged.log_format) == ("critical", "console")


def test_a_library_call_works_with_an_uppercase_log_level(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NAQ_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("NAQ_LOG_FORMAT", "JSON")
    assert Queue("x").config.log_level == "debug"
    config = load_config(search=False)
    assert (config.log_level, config.log_format) == ("debug", "json")


def test_a_bad_cli_only_setting_never_stops_the_library(tmp_path: Path) -> None:
    env = {"NAQ_LOG_LEVEL": "loud", "NAQ_LOG_FORMAT": "xml", "NAQ_CONCURRENCY": "3"}
    config = load_config(search=False, env=env)
    assert (config.log_level, config.log_format, config.concurrency) == ("info", "console", 3)
    assert "log_level" not in config.sources and "log_format" not in config.sources
    path = tmp_path / "naq.toml"
    path.write_text('log_level = 5\nlog_format = "xml"\n')
    assert load_config(path, env={}).log_format == "console"
    assert Queue("x", log_level="loud").config.log_level == "info"


def test_the_cli_still_refuses_a_bad_cli_only_setting() -> None:
    with pytest.raises(ConfigurationError) as info:
        load_config(search=False, env={"NAQ_LOG_LEVEL": "loud"}, for_cli=True)
    assert str(info.value).startswith("NAQ_LOG_LEVEL: log_level: must be in")
    with pytest.raises(ConfigurationError, match="NAQ_LOG_FORMAT: log_format"):
        load_config(search=False, env={"NAQ_LOG_FORMAT": "xml"}, for_cli=True)
