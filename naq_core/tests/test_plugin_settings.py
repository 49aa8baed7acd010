"""Plugin tables declared with ``naq_plugin_settings``: validated, typed, masked, sourced."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from attrs import field, frozen, validators
from cli_support import invoke, isolated, one_error_line, write_config

from naq_core import hookimpl
from naq_core.config import load_config
from naq_core.errors import ConfigurationError
from naq_core.plugin_settings import secret_field
from naq_core.plugins import get_hooks


@frozen(kw_only=True)
class WebhookSettings:
    url: str = "http://127.0.0.1:9/hook"
    timeout: float = field(default=5.0, validator=validators.gt(0))
    retries: int = 3
    verify: bool = True
    token: str | None = secret_field(default=None)


class WebhookPlugin:
    @hookimpl
    def naq_plugin_settings(self, register: Callable[[str, type], None]) -> None:
        register("webhook", WebhookSettings)


@pytest.fixture(autouse=True)
def _webhook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    get_hooks().pm.register(WebhookPlugin(), name="webhook")
    with isolated(tmp_path, monkeypatch):
        yield


def test_the_typed_instance_with_defaults_file_and_env(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[webhook]\nurl = "http://hooks:80/x"\ntimeout = 2\ntoken = "s3cret-tok"\n')
    config = load_config(path, env={"NAQ_WEBHOOK_RETRIES": "7", "NAQ_WEBHOOK_VERIFY": "false"})
    settings = config.plugin_settings("webhook")
    assert settings == WebhookSettings(
        url="http://hooks:80/x", timeout=2.0, retries=7, verify=False, token="s3cret-tok"
    )
    assert config.sources["webhook.url"] == str(path)
    assert config.sources["webhook.retries"] == "NAQ_WEBHOOK_RETRIES"
    assert "webhook.timeout" in config.sources and "webhook.token" in config.sources
    assert "s3cret-tok" not in repr(config) and "s3cret-tok" not in repr(settings)


@pytest.mark.parametrize(
    ("table", "env", "message"),
    [
        ('timeout = "x"', {}, "webhook.timeout: expected a number, got 'x' ({path})"),
        ("timeout = 0", {}, "webhook.timeout: must be > 0: 0.0 ({path})"),
        ("retries = 1.5", {}, "webhook.retries: expected a whole number, got 1.5 ({path})"),
        ("verify = 2", {}, "webhook.verify: expected true or false, got 2 ({path})"),
        (
            "colour = 1",
            {},
            "webhook: unknown key 'colour', known keys: url, timeout, retries, verify, token ({path})",
        ),
        (
            "",
            {"NAQ_WEBHOOK_TIMEOUT": "soon"},
            "webhook.timeout: expected a number, got 'soon' (NAQ_WEBHOOK_TIMEOUT)",
        ),
        ("token = 12345", {}, "webhook.token: expected a string, got *** ({path})"),
    ],
)
def test_a_bad_value_is_one_line_naming_key_and_source(
    tmp_path: Path, table: str, env: dict[str, str], message: str
) -> None:
    path = write_config(tmp_path, f"[webhook]\n{table}\n")
    with pytest.raises(ConfigurationError) as raised:
        load_config(path, env=env)
    assert str(raised.value) == message.format(path=path)
    assert "12345" not in str(raised.value)


def test_a_table_nobody_declares_is_an_error_only_when_asked_for() -> None:
    config = load_config(env={}, search=False)
    assert config.plugin_settings("webhook") == WebhookSettings()
    with pytest.raises(
        ConfigurationError, match=r"no installed plugin declares the settings table \[mailer\]"
    ):
        config.plugin_settings("mailer")


def test_config_show_masks_the_secret_and_names_each_source(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[webhook]\ntoken = "s3cret-tok"\ntimeout = 2\n[dashboard]\nport = 9\n')
    result = invoke("config", "show", "--json", env={"NAQ_WEBHOOK_RETRIES": "4"})
    assert result.exit_code == 0, result.output
    assert "s3cret-tok" not in result.output
    rows = json.loads(result.stdout)
    assert rows["webhook.token"] == {"value": "***", "source": str(path)}
    assert rows["webhook.timeout"] == {"value": 2.0, "source": str(path)}
    assert rows["webhook.retries"] == {"value": 4, "source": "NAQ_WEBHOOK_RETRIES"}
    assert rows["webhook.url"] == {"value": "http://127.0.0.1:9/hook", "source": "default"}
    assert rows["plugins"] == {"value": {"dashboard": {"port": 9}}, "source": str(path)}
    text = invoke("config", "show")
    assert "s3cret-tok" not in text.output
    line = next(line for line in text.stdout.splitlines() if line.startswith("webhook.token"))
    assert '"***"' in line and line.endswith(f"({path})")
    assert f'[dashboard] {{"port": 9}} ({path})' in text.stdout


def test_config_show_with_a_bad_table_is_one_line(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[webhook]\ntimeout = "x"\n')
    result = invoke("config", "show")
    assert result.exit_code == 1
    assert one_error_line(result) == f"Error: webhook.timeout: expected a number, got 'x' ({path})"
