"""Secrets never leave naq in clear: repr, errors, logs and ``naq config show``.

Masked by key (settings and plugin keys that look secret, fields declared with
``secret_field``) and by value (once a password, token or URL user-info is known, any text
naq prints has it replaced by ``***``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from attrs import field, frozen, validators
from cli_support import invoke, isolated, one_error_line, write_config
from structlog.testing import capture_logs

from naq_core import hookimpl
from naq_core._secrets import is_secret_key, mask_text, mask_url
from naq_core.config import load_config
from naq_core.errors import ConfigurationError, NaqConnectionError
from naq_core.plugin_settings import secret_field
from naq_core.plugins import get_hooks

PASSWORD = "p@ss/w0rd-x9"
URL = f"nats://alice:{PASSWORD}@127.0.0.1:1"


@frozen(kw_only=True)
class MailerSettings:
    host: str = "127.0.0.1"
    password: str | None = None  # looks secret, not declared so
    api_key: str | None = None
    key_file: str | None = None  # a path to a secret, shown
    signing: str | None = secret_field(default=None)
    port: int = field(default=25, validator=validators.gt(0))


class MailerPlugin:
    @hookimpl
    def naq_plugin_settings(self, register: Callable[[str, type], None]) -> None:
        register("mailer", MailerSettings)


@pytest.fixture(autouse=True)
def _mailer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    get_hooks().pm.register(MailerPlugin(), name="mailer")
    with isolated(tmp_path, monkeypatch):
        yield


# --- the helpers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("nats://u:p@ss/w@host:4222", "nats://***@host:4222"),
        ("nats://u:secret@host:4222", "nats://***@host:4222"),
        ("tls://token-only@h:1", "tls://***@h:1"),
        ("nats://host:4222", "nats://host:4222"),
        ("u:p@ss@host:4222", "***@host:4222"),
    ],
)
def test_mask_url_hides_all_user_info(url: str, shown: str) -> None:
    assert mask_url(url) == shown


def test_mask_text_masks_urls_and_known_values_longest_first() -> None:
    text = f"cannot connect to {URL}, tried with hunter22 and 'hunter2222'"
    masked = mask_text(text, ["hunter22", "hunter2222"])
    assert masked == "cannot connect to nats://***@127.0.0.1:1, tried with *** and '***'"


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "passwd",
        "db_password",
        "secret",
        "client_secret",
        "token",
        "api_token",
        "nkey_seed",
        "api_key",
        "key",
        "private-key",
        "credentials",
        "auth",
        "auth_token",
        "signingKey",
    ],
)
def test_keys_that_look_secret(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize(
    "key",
    [
        "host",
        "port",
        "key_file",
        "keyfile",
        "tls_key_path",
        "monkey",
        "keyspace",
        "max_age",
        "timeout",
        "url",
        "creds_file",
    ],
)
def test_keys_that_do_not(key: str) -> None:
    assert not is_secret_key(key)


# --- Config --------------------------------------------------------------------------------


def test_repr_of_config_masks_the_url_user_info() -> None:
    config = load_config(overrides={"nats_url": URL, "password": "hunter2222", "token": "tok-1234"})
    text = repr(config)
    assert PASSWORD not in text and "alice" not in text
    assert "nats://***@127.0.0.1:1" in text
    assert "hunter2222" not in text and "tok-1234" not in text


def test_a_bad_scheme_url_error_does_not_echo_the_password() -> None:
    with pytest.raises(ConfigurationError) as info:
        load_config(overrides={"nats_url": f"http://alice:{PASSWORD}@127.0.0.1:4222"})
    text = str(info.value)
    assert PASSWORD not in text and "alice" not in text
    assert "http://***@127.0.0.1:4222" in text


def test_a_non_string_secret_is_not_echoed_in_the_type_error(tmp_path: Path) -> None:
    path = write_config(tmp_path, "token = 12345678\npassword = [98765432]\n")
    with pytest.raises(ConfigurationError) as info:
        load_config(path)
    text = str(info.value)
    assert "12345678" not in text and "98765432" not in text
    assert text.startswith(f"{path}: ") and "expected a string" in text


def test_masked_masks_plugin_tables_by_key_and_url_user_info(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        f'[dashboard]\nport = 9\nauth = "hdr-value-77"\nupstream = "{URL}"\n'
        '[dashboard.db]\npasswd = "db-pw-1234"\nkey_file = "/etc/k.pem"\n',
    )
    masked = load_config(path).masked()
    table = masked["plugins"]["dashboard"]
    assert table == {
        "port": 9,
        "auth": "***",
        "upstream": "nats://***@127.0.0.1:1",
        "db": {"passwd": "***", "key_file": "/etc/k.pem"},
    }


# --- declared plugin tables ------------------------------------------------------------------


def test_a_bad_value_of_a_secret_looking_key_is_not_echoed(tmp_path: Path) -> None:
    write_config(tmp_path, "[mailer]\npassword = 55554444\n")
    with pytest.raises(ConfigurationError) as info:
        load_config()
    assert "55554444" not in str(info.value)
    assert "mailer.password: expected a string" in str(info.value)


def test_config_show_masks_declared_keys_by_pattern_and_by_declaration(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        f'nats_url = "{URL}"\npassword = "hunter2222"\n'
        '[mailer]\npassword = "mail-pw-1"\napi_key = "ak-123456"\nkey_file = "/k.pem"\nsigning = "sg-9876"\n'
        '[other]\nclient_secret = "cs-11111"\nname = "x"\n',
    )
    for args in (("config", "show", "--json"), ("config", "show")):
        result = invoke(*args)
        assert result.exit_code == 0, result.output
        for secret in (PASSWORD, "alice", "hunter2222", "mail-pw-1", "ak-123456", "sg-9876", "cs-11111"):
            assert secret not in result.output, (args, secret)
    rows = json.loads(invoke("config", "show", "--json").stdout)
    assert rows["mailer.password"]["value"] == "***"
    assert rows["mailer.api_key"]["value"] == "***"
    assert rows["mailer.signing"]["value"] == "***"
    assert rows["mailer.key_file"]["value"] == "/k.pem"
    assert rows["nats_url"]["value"] == ["nats://***@127.0.0.1:1"]
    assert rows["plugins"]["value"] == {"other": {"client_secret": "***", "name": "x"}}


def test_a_cross_field_error_masks_every_secret_of_the_table(tmp_path: Path) -> None:
    @frozen(kw_only=True)
    class Strict:
        api_key: str = "k"
        other: str = "o"

        def __attrs_post_init__(self) -> None:
            raise ValueError(f"api_key {self.api_key} does not fit other {self.other}")

    class StrictPlugin:
        @hookimpl
        def naq_plugin_settings(self, register: Callable[[str, type], None]) -> None:
            register("strict", Strict)

    get_hooks().pm.register(StrictPlugin(), name="strict")
    write_config(tmp_path, '[strict]\napi_key = "strict-key-42"\nother = "visible"\n')
    result = invoke("config", "show")
    line = one_error_line(result)
    assert "strict-key-42" not in line and "visible" in line


# --- the connection --------------------------------------------------------------------------


async def test_connect_errors_and_logs_never_show_the_url_user_info() -> None:
    from naq_core.jetstream import connect

    config = load_config(overrides={"nats_url": URL, "connect_timeout": 2})
    with capture_logs() as logs, pytest.raises(NaqConnectionError) as info:
        await connect(config, hooks=get_hooks())
    text = str(info.value) + json.dumps(logs, default=str)
    assert PASSWORD not in text and "alice" not in text
    assert "nats://***@127.0.0.1:1" in str(info.value)


async def test_error_text_from_nats_is_masked_by_value() -> None:
    from naq_core._jetstream.connection import _connect_error

    config = load_config(overrides={"nats_url": URL, "token": "tok-abcdef"})
    error = _connect_error(config, [OSError(f"server said tok-abcdef and {PASSWORD} at {URL}")])
    assert "tok-abcdef" not in str(error) and PASSWORD not in str(error)
    assert "***" in str(error)
