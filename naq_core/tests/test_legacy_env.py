"""The original naq's environment variables: read when the new name is unset, warned about once."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from naq_core import _deprecation
from naq_core._legacy_env import LEGACY_ENV
from naq_core.config import FIELDS, Config, load_config
from naq_core.errors import ConfigurationError

DOCS = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"

#: old variable -> (a value the original accepted, the setting, what naq makes of it)
READ = {
    "NAQ_JOB_SERIALIZER": ("pickle", "serializer", "pickle"),
    "NAQ_DEFAULT_RESULT_TTL": ("3600", "result_ttl", 3600.0),
    "NAQ_DEFAULT_ACK_WAIT": ("60", "ack_wait", 60.0),
    "NAQ_WORKER_HEARTBEAT_INTERVAL": ("15", "heartbeat_interval", 15.0),
    "NAQ_WORKER_TTL": ("60", "heartbeat_interval", 20.0),
}
IGNORED = [v.old for v in LEGACY_ENV if v.key is None]


@pytest.fixture(autouse=True)
def _fresh_process() -> Iterator[None]:
    """Each test sees the warnings as a new process would."""
    _deprecation._warned.clear()
    yield
    _deprecation._warned.clear()


def _load(env: dict[str, str]) -> tuple[Config, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        config = load_config(search=False, env=env)
    messages = [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)]
    return config, messages


def test_the_table_names_real_settings_and_their_variables() -> None:
    olds = [v.old for v in LEGACY_ENV]
    assert len(olds) == len(set(olds))
    for variable in LEGACY_ENV:
        if variable.key is None:
            assert variable.new is None and variable.note
        else:
            assert variable.key in FIELDS, variable
            assert variable.new == f"NAQ_{variable.key.upper()}"
    assert set(READ) | set(IGNORED) == {v.old for v in LEGACY_ENV if v.old != v.new}
    wanted = {
        "NAQ_SCHEDULER_LOCK_TTL",
        "NAQ_SCHEDULER_LOCK_RENEW_INTERVAL",
        "NAQ_MAX_SCHEDULE_FAILURES",
        "NAQ_JOB_STATUS_TTL",
        "NAQ_LOG_TO_FILE_ENABLED",
        "NAQ_LOG_FILE_PATH",
        "NAQ_JSON_ENCODER",
        "NAQ_JSON_DECODER",
        "NAQ_ACK_WAIT_PER_QUEUE",
    }
    assert set(IGNORED) == wanted


@pytest.mark.parametrize("old", sorted(READ))
def test_an_old_variable_is_read_when_the_new_one_is_unset(old: str) -> None:
    value, key, expected = READ[old]
    config, messages = _load({old: value})
    assert getattr(config, key) == expected
    assert config.sources[key] == old
    new = f"NAQ_{key.upper()}"
    assert len(messages) == 1 and old in messages[0] and new in messages[0], messages
    again, repeated = _load({old: value})
    assert getattr(again, key) == expected
    assert repeated == []  # once per process


@pytest.mark.parametrize("old", sorted(READ))
def test_the_new_variable_wins_when_both_are_set(old: str) -> None:
    _, key, _ = READ[old]
    new = f"NAQ_{key.upper()}"
    config, messages = _load({old: "9", new: "7"})
    assert getattr(config, key) == ("7" if key == "serializer" else 7.0)
    assert config.sources[key] == new
    assert len(messages) == 1 and "ignored" in messages[0] and new in messages[0], messages
    assert _load({old: "9", new: "7"})[1] == []


@pytest.mark.parametrize("old", IGNORED)
def test_a_variable_without_meaning_is_named_in_a_warning(old: str) -> None:
    config, messages = _load({old: "30"})
    assert config == load_config(search=False, env={})
    assert len(messages) == 1, messages
    assert messages[0].startswith(f"{old} (a variable of the original naq) is ignored: ")
    assert _load({old: "30"})[1] == []


def test_original_serializer_names_map_in_any_case() -> None:
    assert _load({"NAQ_JOB_SERIALIZER": "JSON"})[0].serializer == "json"
    assert _load({"NAQ_JOB_SERIALIZER": "Pickle"})[0].serializer == "pickle"


def test_original_log_levels_map() -> None:
    assert _load({"NAQ_LOG_LEVEL": "TRACE"})[0].log_level == "debug"
    assert _load({"NAQ_LOG_LEVEL": "SUCCESS"})[0].log_level == "info"
    config, messages = _load({"NAQ_LOG_LEVEL": "CRITICAL"})
    assert config.log_level == "critical" and messages == []  # same name: nothing to warn about


def test_the_heartbeat_interval_wins_over_the_worker_ttl() -> None:
    config, messages = _load({"NAQ_WORKER_TTL": "60", "NAQ_WORKER_HEARTBEAT_INTERVAL": "7"})
    assert config.heartbeat_interval == 7.0
    assert config.sources["heartbeat_interval"] == "NAQ_WORKER_HEARTBEAT_INTERVAL"
    assert any(
        m.startswith("NAQ_WORKER_TTL is ignored because NAQ_WORKER_HEARTBEAT_INTERVAL") for m in messages
    )


def test_an_old_variable_overrides_the_file_like_the_new_one(tmp_path: Path) -> None:
    path = tmp_path / "naq.toml"
    path.write_text("ack_wait = 10\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert load_config(path, env={"NAQ_DEFAULT_ACK_WAIT": "45"}).ack_wait == 45.0
        assert load_config(path, env={}, overrides={"ack_wait": 5}).ack_wait == 5.0


def test_a_bad_old_value_names_the_old_variable() -> None:
    with pytest.raises(ConfigurationError, match=r"^NAQ_DEFAULT_ACK_WAIT: ack_wait: expected a number"):
        _load({"NAQ_DEFAULT_ACK_WAIT": "soon"})


def test_the_warning_points_at_the_code_that_loaded_the_config() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_config(search=False, env={"NAQ_DEFAULT_RESULT_TTL": "60"})
    assert [Path(w.filename).name for w in caught] == [Path(__file__).name]


def _docs_rows() -> dict[str, tuple[str, str]]:
    text = DOCS.read_text()
    section = text.split("## Environment variables of the original naq", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, tuple[str, str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("NAQ_"):
            rows[cells[0]] = (cells[1], cells[2])
    return rows


def test_the_docs_show_the_same_table() -> None:
    rows = _docs_rows()
    assert list(rows) == [v.old for v in LEGACY_ENV]
    for variable in LEGACY_ENV:
        now, note = rows[variable.old]
        expected_now = "ignored" if variable.new is None else f"`{variable.new}` (`{variable.key}`)"
        assert now == expected_now, variable.old
        assert note == variable.note, variable.old
