"""``naq config``: the effective configuration and where each value came from."""

from __future__ import annotations

import json
from pathlib import Path

import click

from naq_core import plugin_settings
from naq_core.cli._state import echo_json, get_state
from naq_core.config import find_config_file

__all__ = ["config"]


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
    key as TABLE.KEY; other plugin tables are shown as written. Secrets show as ***:
    password, token, URL user-info, and keys that look secret (password, api_key, ...).
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
    rows["plugins"] = {"value": others, "source": where or "default"}  # masked by masked()
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
