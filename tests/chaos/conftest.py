"""Fixtures of the chaos suite; the helpers and how to use them are in ``chaos_support.py``.

``nox -s chaos`` runs the suite at full size, ``nox -s chaos_short`` (a default session) at
short size (``NAQ_CHAOS_SCALE``, read when ``chaos_support`` is imported).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # chaos_support, chaos_tasks, the cases' modules

from chaos_support import SCALE, Chaos, summary_lines

from naq_core.testing.process import ChildProcesses


def pytest_terminal_summary(terminalreporter: Any) -> None:
    lines = summary_lines()
    if lines:
        terminalreporter.section(f"chaos figures (scale {SCALE})")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture(autouse=True)
def _chaos_plugins() -> Iterator[None]:
    """The test process (it enqueues, reads records and dead letters) loads the plugins the
    workers load: the JSON serializer and dlq-stream."""
    import naq_dlq_stream.plugin
    import naq_json_serializer
    from naq_core.testing import only_plugins

    with only_plugins(naq_json_serializer, naq_dlq_stream.plugin):
        yield


@pytest.fixture
def chaos(tmp_path: Path, nats_url: str, child_processes: ChildProcesses) -> Chaos:
    """A :class:`chaos_support.Chaos` on the session's server: queue, recording, workers."""
    return Chaos(tmp_path, nats_url, child_processes)
