"""The ``naq`` command line: ``main`` is the console script, ``cli`` the click group.

Plugins add commands with the ``naq_register_commands`` hook and take a
:class:`NaqContext` with :func:`pass_naq_context` (the effective config, a connection);
embed the group in another click application with ``group.add_command(cli, "naq")``. A
plugin command that deletes data asks first with :func:`require_confirmation` (the
``naq_confirm_destructive`` hook), so it refuses the way ``naq purge`` does: one line,
exit code 2. Long loops can show a :func:`progress` bar, drawn only when stderr is a
terminal.
"""

from __future__ import annotations

from naq_core.cli._confirm import require_confirmation
from naq_core.cli._group import BUILTIN_COMMANDS, NaqGroup, cli, main
from naq_core.cli._progress import progress
from naq_core.cli._state import CliState, Refused, echo_json, get_state, run_async, table
from naq_core.cli.context import NaqConnection, NaqContext, pass_naq_context

__all__ = [
    "BUILTIN_COMMANDS",
    "CliState",
    "NaqConnection",
    "NaqContext",
    "NaqGroup",
    "Refused",
    "cli",
    "echo_json",
    "get_state",
    "main",
    "pass_naq_context",
    "progress",
    "require_confirmation",
    "run_async",
    "table",
]
