"""The ``naq`` click group: built-ins imported on demand, plugin commands merged once.

Built-in commands live in modules of this package and are imported only when resolved by
name (click's "complex applications" ``LazyGroup``, flask's ``FlaskGroup``). Plugin commands
come from the ``naq_register_commands`` hook, called once per plugin manager the first time
the group lists or resolves a command that is not built in; a plugin cannot replace a
built-in name. The global options (``--nats-url``, ``--config``, ``--log-level``,
``--log-format``, ``--debug``) are also given to every command the group resolves, at any
depth, so they work after the subcommand as well as before it. Errors are one line on
stderr: ``Error: ...`` (exit 1 for naq errors, 2 for usage errors), a traceback only with
``--debug``; Ctrl-C exits 130.
"""

from __future__ import annotations

import importlib
import sys
import traceback
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from importlib import metadata
from pathlib import Path
from types import CodeType, FrameType, ModuleType
from typing import Any, NoReturn

import click

from naq_core.cli._state import CliState, echo_json, get_state, table
from naq_core.errors import JobFailedError, NaqError
from naq_core.logconfig import FORMATS, LEVELS

__all__ = ["BUILTIN_COMMANDS", "NaqGroup", "cli", "core_version", "main", "with_global_options"]

#: command name -> "module:attribute", imported when the command is used.
BUILTIN_COMMANDS: Mapping[str, str] = {
    "config": "naq_core.cli.config:config",
    "dev": "naq_core.cli.dev:dev",
    "job": "naq_core.cli.job:job",
    "purge": "naq_core.cli.purge:purge",
    "queue": "naq_core.cli.queues:queue",
    "queues": "naq_core.cli.queues:queues",
    "schedule": "naq_core.cli.schedule:schedule",
    "server": "naq_core.cli.server:server",
    "worker": "naq_core.cli.worker:worker",
    "workers": "naq_core.cli.workers:workers",
}

_debug: ContextVar[bool] = ContextVar("naq_cli_debug", default=False)


def core_version() -> str:
    try:
        return metadata.version("naq-core")
    except metadata.PackageNotFoundError:
        return "0+unknown"


class NaqGroup(click.Group):
    """A click group whose built-in commands are imported lazily and plugins merged once."""

    def __init__(self, *args: Any, lazy_commands: Mapping[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})
        self._builtins: dict[str, click.Command] = {}
        self._plugin_source: object | None = None
        self._plugin_commands: set[str] = set()
        self._loading_plugins = False
        self._last_plugin_error: str | None = None
        self._command_impls: dict[CodeType, str] = {}

    # --- resolving commands -----------------------------------------------------------

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._merge_plugin_commands()
        return sorted({*self.lazy_commands, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_commands:
            return with_global_options(self._builtin(cmd_name))
        self._merge_plugin_commands()
        command = self.commands.get(cmd_name)
        return None if command is None else with_global_options(command)

    def _builtin(self, name: str) -> click.Command:
        command = self._builtins.get(name)
        if command is None:
            module_name, _, attribute = self.lazy_commands[name].partition(":")
            loaded = getattr(importlib.import_module(module_name), attribute)
            if not isinstance(loaded, click.Command):
                raise TypeError(f"{self.lazy_commands[name]} is not a click command")
            self._builtins[name] = command = loaded
        return command

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        name = name or cmd.name
        if self._loading_plugins:
            if name is None or name in self.lazy_commands:
                click.echo(
                    f"Warning: plugin {self._registering_plugin()} tried to replace the built-in "
                    f"command {name!r}; ignored",
                    err=True,
                )
                return
            self._plugin_commands.add(name)
        super().add_command(cmd, name)

    def _registering_plugin(self) -> str:
        """The name of the plugin whose ``naq_register_commands`` is calling us, quoted."""
        frame: FrameType | None = sys._getframe(1)
        while frame is not None:
            name = self._command_impls.get(frame.f_code)
            if name is not None:
                return repr(name)
            frame = frame.f_back
        return "(unknown)"

    def _merge_plugin_commands(self) -> None:
        """Ask the plugins for their commands, once per plugin manager."""
        from naq_core.plugins import get_hooks

        try:
            hooks = get_hooks()
            if hooks is self._plugin_source:
                return
            for name in self._plugin_commands:
                self.commands.pop(name, None)
            self._plugin_commands.clear()
            self._plugin_source = hooks
            self._command_impls = {
                impl.function.__code__: _plugin_label(impl.plugin_name, impl.plugin)
                for impl in hooks.pm.hook.naq_register_commands.get_hookimpls()
                if hasattr(impl.function, "__code__")
            }
            self._loading_plugins = True
            try:
                hooks.register_commands(cli=self)
            finally:
                self._loading_plugins = False
        except Exception as exc:  # a broken plugin must not take the built-ins down
            message = f"Warning: plugin commands unavailable: {exc}"
            if message != self._last_plugin_error:
                self._last_plugin_error = message
                click.echo(message, err=True)

    # --- running with one-line errors -------------------------------------------------

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        token = _debug.set(False)
        try:
            code = self._main(args, prog_name or "naq", complete_var, extra)
        finally:
            _debug.reset(token)
        sys.exit(code)

    def _main(
        self, args: Sequence[str] | None, prog_name: str, complete_var: str | None, extra: dict[str, Any]
    ) -> int:
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.ClickException as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # click >= 8.2: `naq` alone shows help
                exc.show()
                return exc.exit_code
            message = exc.format_message()
            if isinstance(exc, click.UsageError) and exc.ctx is not None:
                message += f" (see '{exc.ctx.command_path} --help')"
            _error(message)
            return exc.exit_code
        except click.Abort as exc:
            if isinstance(exc.__cause__ or exc.__context__, KeyboardInterrupt):  # Ctrl-C in a prompt
                return 130
            click.echo("Aborted.", err=True)
            return 1
        except KeyboardInterrupt:
            return 130
        except JobFailedError as exc:
            _traceback_if_debug()
            _error(f"job {exc.job_id} {exc.status}: {exc.error_type}: {exc.error}")
            return 1
        except NaqError as exc:
            _traceback_if_debug()
            _error(str(exc))
            return 1
        except Exception as exc:
            _traceback_if_debug()
            _error(f"unexpected {type(exc).__name__}: {exc} (run with --debug for the traceback)")
            return 1
        return rv if isinstance(rv, int) else 0


def _plugin_label(name: str, plugin: object) -> str:
    """A plugin's registered name; for one registered without a name, its class or module."""
    if not name.isdigit():  # pluggy names an unnamed plugin str(id(plugin))
        return name
    named = plugin if isinstance(plugin, ModuleType | type) else type(plugin)
    return f"{named.__module__}.{named.__qualname__}" if isinstance(named, type) else named.__name__


def _error(message: str) -> None:
    click.echo(f"Error: {message}", err=True)


def _traceback_if_debug() -> None:
    if _debug.get():
        traceback.print_exc()


# --- global options ----------------------------------------------------------------------

_CONFIG_HELP = (
    "Config file (naq.toml or a pyproject.toml with [tool.naq]). Default: $NAQ_CONFIG, else the nearest one."
)
_NATS_URL_HELP = (
    "NATS server URL(s), comma-separated. Default: $NAQ_NATS_URL, the config, nats://127.0.0.1:4222."
)
_LOG_LEVEL_HELP = "Default: info for worker, server and dev, warning for the others."
_LOG_FORMAT_HELP = "Log lines on stderr. Default: console."
_DEBUG_HELP = "Show tracebacks of errors."
_GLOBAL_MARK = "_naq_global_options"


def _set_debug(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    if value:
        _debug.set(True)
    return value


def _store_global(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    """A global option given after a subcommand: as good as the same option before it."""
    if value is None or value is False or param.name is None:
        return
    if param.name == "debug":
        _debug.set(True)
    elif param.name == "log_level":
        value = value.lower()
    setattr(get_state(ctx), param.name, value)


def _global_options() -> list[click.Option]:
    """Fresh copies of the group's global options, stored in the :class:`CliState`."""
    common: dict[str, Any] = {"expose_value": False, "callback": _store_global}
    return [
        click.Option(
            ["--config", "config_path"],
            type=click.Path(dir_okay=False, path_type=Path),
            metavar="PATH",
            help=_CONFIG_HELP,
            **common,
        ),
        click.Option(["--nats-url", "nats_url"], metavar="URL", help=_NATS_URL_HELP, **common),
        click.Option(
            ["--log-level", "log_level"],
            type=click.Choice(LEVELS, case_sensitive=False),
            help=_LOG_LEVEL_HELP,
            **common,
        ),
        click.Option(
            ["--log-format", "log_format"],
            type=click.Choice(FORMATS, case_sensitive=False),
            help=_LOG_FORMAT_HELP,
            **common,
        ),
        click.Option(["--debug", "debug"], is_flag=True, is_eager=True, help=_DEBUG_HELP, **common),
    ]


def with_global_options(command: click.Command) -> click.Command:
    """Give ``command`` (and the commands of a group, at any depth) the global options, once.

    An option the command already has under the same flag keeps the command's meaning.
    """
    if getattr(command, _GLOBAL_MARK, False):
        return command
    setattr(command, _GLOBAL_MARK, True)
    taken = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
    command.params.extend(o for o in _global_options() if not taken.intersection(o.opts))
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            with_global_options(sub)
    return command


def _print_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    click.echo(f"naq-core {core_version()}")
    ctx.exit()


def _plugins_option(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    """``--plugins`` and ``--json`` are both eager: whichever is processed second acts."""
    if ctx.resilient_parsing:
        return
    ctx.meta[f"naq.{param.name}"] = value
    if "naq.show_plugins" not in ctx.meta or "naq.as_json" not in ctx.meta:
        return
    show, as_json = ctx.meta["naq.show_plugins"], ctx.meta["naq.as_json"]
    if show:
        _print_plugins(as_json)
        ctx.exit()
    if as_json:
        raise click.UsageError("--json only goes with --plugins (commands have their own --json)", ctx)


def _print_plugins(as_json: bool) -> None:
    from naq_core.plugins import list_plugins

    plugins = list_plugins()
    if as_json:
        echo_json([dict(p) for p in plugins])
        return
    rows = [
        (p["name"], p["distribution"] or "-", p["version"] or "-", ", ".join(p["hooks"]) or "-")
        for p in plugins
    ]
    click.echo(table(("NAME", "DISTRIBUTION", "VERSION", "HOOKS"), rows))


@click.group(
    "naq",
    cls=NaqGroup,
    lazy_commands=BUILTIN_COMMANDS,
    context_settings={"max_content_width": 110},
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="PATH",
    help=_CONFIG_HELP,
)
@click.option("--nats-url", metavar="URL", help=_NATS_URL_HELP)
@click.option("--log-level", type=click.Choice(LEVELS, case_sensitive=False), help=_LOG_LEVEL_HELP)
@click.option("--log-format", type=click.Choice(FORMATS, case_sensitive=False), help=_LOG_FORMAT_HELP)
@click.option("--debug", is_flag=True, is_eager=True, callback=_set_debug, help=_DEBUG_HELP)
@click.option(
    "--version",
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=_print_version,
    help="Print the naq-core version and exit.",
)
@click.option(
    "--plugins",
    "show_plugins",
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=_plugins_option,
    help="List every plugin (name, distribution, version, hooks) and exit.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=_plugins_option,
    help="With --plugins: print JSON.",
)
@click.pass_context
def cli(
    ctx: click.Context,
    config_path: Path | None,
    nats_url: str | None,
    log_level: str | None,
    log_format: str | None,
    debug: bool,
) -> None:
    """naq: background jobs for Python on NATS JetStream.

    Start a local server with `naq server` (or everything at once with `naq dev`), run
    workers with `naq worker QUEUE -t myapp.tasks`. The options below also work after
    any command (`naq worker QUEUE --nats-url URL`).
    """
    ctx.obj = CliState(
        config_path=config_path,
        nats_url=nats_url,
        log_level=log_level.lower() if log_level else None,
        log_format=log_format.lower() if log_format else None,
        debug=debug,
    )


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """The ``naq`` console script."""
    cli.main(args=argv, prog_name="naq")
    raise SystemExit(0)  # pragma: no cover - cli.main always exits
