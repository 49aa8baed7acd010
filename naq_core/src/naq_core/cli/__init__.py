"""The ``naq`` command line: ``main`` is the console script, ``cli`` the click group.

Plugins add commands with the ``naq_register_commands`` hook; embed the group in another
click application with ``group.add_command(cli, "naq")``.
"""

from __future__ import annotations

from naq_core.cli._group import BUILTIN_COMMANDS, NaqGroup, cli, main
from naq_core.cli._state import CliState, get_state

__all__ = ["BUILTIN_COMMANDS", "CliState", "NaqGroup", "cli", "get_state", "main"]
