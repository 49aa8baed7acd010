"""``naq config``: the effective configuration and where each value came from."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import click

from naq_core.cli._state import echo_json, get_state

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
    environment variables, command-line flags.
    """
    effective = get_state(ctx).config()
    values = effective.masked()
    values["plugins"] = _mask_tables(values.get("plugins", {}))
    sources = effective.sources
    rows = {key: {"value": value, "source": sources.get(key, "default")} for key, value in values.items()}
    if as_json:
        echo_json(rows)
        return
    width = max(len(key) for key in rows)
    for key, row in rows.items():
        if key == "plugins":
            continue
        click.echo(f"{key:<{width}} = {json.dumps(row['value'], default=str):<40} ({row['source']})")
    for name, table in values["plugins"].items():
        click.echo(f"[{name}] {json.dumps(table, default=str)}")
