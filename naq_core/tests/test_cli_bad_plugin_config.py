"""A plugin's bad configuration stops ``naq worker`` with one line on stderr, nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from naq_core.testing.process import ChildProcesses, naq_argv, naq_env

DECLARES = """
from attrs import field, frozen, validators
from naq_core import hookimpl


@frozen(kw_only=True)
class Settings:
    timeout: float = field(default=5.0, validator=validators.gt(0))


@hookimpl
def naq_plugin_settings(register):
    register("webhook", Settings)
"""

VALIDATES_AT_WORKER_START = """
from naq_core import hookimpl
from naq_core.errors import ConfigurationError


@hookimpl
def naq_register_dead_letter_sinks(register, config):
    timeout = config.plugin_config("webhook").get("timeout")
    if not isinstance(timeout, (int, float)):
        raise ConfigurationError(f"webhook.timeout: expected a number, got {timeout!r}")
"""


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (DECLARES, "Error: webhook.timeout: expected a number, got 'x' ({path})"),
        (VALIDATES_AT_WORKER_START, "Error: webhook.timeout: expected a number, got 'x'"),
    ],
    ids=["declared", "checked-at-worker-start"],
)
def test_worker_with_a_bad_plugin_table_prints_one_line(
    nats_url: str, tmp_path: Path, child_processes: ChildProcesses, source: str, expected: str
) -> None:
    config = tmp_path / "naq.toml"
    config.write_text('[webhook]\ntimeout = "x"\n')
    env = naq_env(
        tmp_path, {"json": "naq_json_serializer", "webhook": "naq_webhook"}, modules={"naq_webhook": source}
    )
    worker = child_processes.start(naq_argv("worker", "q", "--nats-url", nats_url), env=env, cwd=tmp_path)
    assert worker.wait() != 0
    assert worker.stderr.splitlines() == [expected.format(path=config)], worker.stderr
