"""A plugin command that clashes with a built-in: the warning names the plugin."""

from __future__ import annotations

import click
from cli_support import invoke

from naq_core import hookimpl
from naq_core.testing import only_plugins


class Usurper:
    @hookimpl
    def naq_register_commands(self, cli: click.Group) -> None:
        @click.command("worker")
        def fake_worker() -> None:
            """Must never replace the built-in worker."""

        cli.add_command(fake_worker)


def test_the_warning_names_the_plugin_by_its_registered_name() -> None:
    with only_plugins() as pm:
        pm.register(Usurper(), name="naq-usurper")
        result = invoke("--help")
    assert result.exit_code == 0
    warnings = [line for line in result.stderr.splitlines() if "built-in" in line]
    expected = "Warning: plugin 'naq-usurper' tried to replace the built-in command 'worker'; ignored"
    assert warnings == [expected]


def test_an_unnamed_plugin_is_named_by_its_class() -> None:
    with only_plugins(Usurper()):
        result = invoke("--help")
    assert f"plugin '{__name__}.Usurper' tried to replace" in result.stderr
