"""``naq dlq ... --queue`` checks the name like every queue name on the command line."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from dlq_support import isolated_cli  # noqa: F401 (an autouse fixture)

from naq_core.cli import cli

NOWHERE = "nats://127.0.0.1:1"  # nothing listens: a command that got past parsing fails otherwise


@pytest.mark.parametrize("command", [("list",), ("requeue",), ("purge", "-y")])
@pytest.mark.parametrize("bad", ["no.dots", "with space", "star>"])
def test_a_bad_queue_filter_is_a_usage_error(command: tuple[str, ...], bad: str) -> None:
    args = ["--nats-url", NOWHERE, "dlq", *command, "--queue", bad]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "invalid queue name" in lines[0] and repr(bad) in lines[0]
