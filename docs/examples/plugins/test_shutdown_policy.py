"""Workers of the listed queues wait for their jobs; the others keep naq's default."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pluggy
import pytest
import shutdown_policy

from naq_core import ShutdownPolicy, Worker
from naq_core.testing import only_plugins


@pytest.fixture
def pm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[pluggy.PluginManager]:
    (tmp_path / "naq.toml").write_text('[long_jobs]\nqueues = ["reports"]\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NAQ_CONFIG", raising=False)
    with only_plugins(shutdown_policy) as manager:
        yield manager


def test_listed_queues_wait_for_ever_others_get_the_default(pm: pluggy.PluginManager) -> None:
    reports = Worker(["emails", "reports"], shutdown_timeout=7, install_signal_handlers=False)
    emails = Worker("emails", shutdown_timeout=7, install_signal_handlers=False)
    assert pm.hook.naq_shutdown_policy(worker=reports, config=reports.config) == ShutdownPolicy(grace=None)
    assert pm.hook.naq_shutdown_policy(worker=emails, config=emails.config) == ShutdownPolicy(grace=7)
