"""``naq config``: the effective configuration and where each value came from."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from naq_core import plugin_settings
from naq_core.cli._state import echo_json, get_state
from naq_core.config import find_config_file

__all__ = ["config"]

_SECRET = re.compile(r"password|token|secret|seed|key$", re.IGNORECASE)


def _mask_tables(tables: Mapping[str, Any]) -> dict[str, Any]:
    """Plugin sub-tables with secret-looking values replaced by ``***``."""
    masked: dict[str, Any] = {}
    for key, value in tables.items():
        if isinstance(value, Mapping):
            masked[key] = _mask_tables(value)
        elif _SECRET.search(key) and value:
            masked[key] = "***"
        else:
            masked[key] = value
    return masked


@click.group()
def config() -> None:
    """Inspect the configuration."""


@config.command()
@click.option("--json", "as_json", is_flag=True, help='Print {"key": {"value": ..., "source": ...}}.')
@click.pass_context
def show(ctx: click.Context, as_json: bool) -> None:
    """Show every setting, its effective value and its source (secrets masked).

    Sources, lowest to highest: defaults, naq.toml or [tool.naq] in pyproject.toml, NAQ_*
    environment variables, command-line flags. Plugin tables a plugin declares show each
    key as TABLE.KEY; other plugin tables are shown as written.
    """
    state = get_state(ctx)
    effective = state.config()
    values = effective.masked()
    tables = values.pop("plugins", {})
    sources = effective.sources
    rows = {key: {"value": value, "source": sources.get(key, "default")} for key, value in values.items()}
    declared = plugin_settings.declared()
    for table in sorted(declared):
        for key, value in plugin_settings.shown(effective.plugin_settings(table)).items():
            name = f"{table}.{key}"
            rows[name] = {"value": value, "source": sources.get(name, "default")}
    others = {name: table for name, table in tables.items() if name not in declared}
    where = _config_file(state.config_path) if others else None
    rows["plugins"] = {"value": _mask_tables(others), "source": where or "default"}
    if as_json:
        echo_json(rows)
        return
    width = max(len(key) for key in rows)
    for key, row in rows.items():
        if key == "plugins":
            continue
        click.echo(f"{key:<{width}} = {json.dumps(row['value'], default=str):<40} ({row['source']})")
    for name, table in rows["plugins"]["value"].items():
        click.echo(f"[{name}] {json.dumps(table, default=str)} ({where})")


def _config_file(path: Path | None) -> str | None:
    """The file the undeclared plugin tables came from."""
    found = path or find_config_file()
    return None if found is None else str(found)
