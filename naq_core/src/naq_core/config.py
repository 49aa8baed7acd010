"""Configuration: defaults < ``naq.toml`` / ``[tool.naq]`` < ``NAQ_*`` env < flags and arguments.

Every value is validated by one cattrs converter; a bad value becomes one
:class:`~naq_core.errors.ConfigurationError` line that names the key, where it came from and
what was expected. Tables that are not naq keys (``[tool.naq.dashboard]``) are kept for the
plugin of that name in :attr:`Config.plugins`.

Values that are names from a fixed set (log level, log format, serializer) are read in any
case. The settings only the ``naq`` command reads (:data:`CLI_ONLY_KEYS`) never stop a
library call: a bad one is ignored unless ``load_config(..., for_cli=True)``. The original
naq's environment variables are read when their new name is unset (``_legacy_env``).
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import cattrs
from attrs import field, frozen, validators

from naq_core import _secrets
from naq_core._legacy_env import legacy_values
from naq_core.errors import ConfigurationError

__all__ = [
    "CLI_ONLY_KEYS",
    "QUEUE_NAME_RE",
    "Config",
    "find_config_file",
    "load_config",
    "mask_url",
    "validate_queue_name",
]

QUEUE_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}\Z")  # \Z: "$" would accept a trailing newline
_SECRET_KEYS = frozenset({"password", "token"})
#: Settings read by the ``naq`` command only: a bad value is an error there, ignored elsewhere.
CLI_ONLY_KEYS = frozenset({"log_level", "log_format"})
#: Other spellings of log levels (stdlib's and loguru's, which the original naq used).
_LEVEL_ALIASES = {"warn": "warning", "fatal": "critical", "trace": "debug", "success": "info"}


def validate_queue_name(name: str) -> str:
    if not isinstance(name, str) or not QUEUE_NAME_RE.match(name):
        raise ConfigurationError(
            f"invalid queue name {name!r}: use 1-128 letters, digits, '_' or '-' (no dots or spaces)"
        )
    return name


def mask_url(url: str) -> str:
    """``nats://user:pass@host`` -> ``nats://***@host``: URLs are shown, secrets never
    (everything up to the last ``@`` is user-info: a password may hold ``@`` or ``/``)."""
    return _secrets.mask_url(url)


def _urls_repr(urls: tuple[str, ...]) -> str:
    return repr(tuple(mask_url(url) for url in urls))


def _urls(value: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [u for u in (p.strip() for p in value.split(",")) if u]
    return tuple(value)


def _check_urls(_: object, __: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
    if not value:
        raise ValueError("at least one NATS URL")
    for url in value:
        if not re.match(r"^(nats|tls|ws|wss)://", url):
            raise ValueError(f"a URL like nats://127.0.0.1:4222, got {mask_url(url)!r}")


def _check_queue(_: object, __: attrs.Attribute[Any], value: str) -> None:
    if not QUEUE_NAME_RE.match(value):
        raise ValueError("letters, digits, '_' or '-' (no dots)")


def _name(value: Any) -> Any:
    """A name from a fixed set, in any case: ``"JSON"`` -> ``"json"``."""
    return value.strip().lower() if isinstance(value, str) else value


def _level(value: Any) -> Any:
    name = _name(value)
    return _LEVEL_ALIASES.get(name, name) if isinstance(name, str) else name


def _table_keys(tables: Mapping[str, Mapping[str, Any]]) -> str:
    return repr({name: sorted(table) for name, table in tables.items()})


_pos: Any = validators.gt(0.0)
_opt_str = validators.optional(validators.instance_of(str))


@frozen(kw_only=True)
class Config:
    """The effective configuration. Build it with :func:`load_config`."""

    # connection
    nats_url: tuple[str, ...] = field(
        default=("nats://127.0.0.1:4222",), converter=_urls, validator=_check_urls, repr=_urls_repr
    )
    user: str | None = field(default=None, validator=_opt_str)
    password: str | None = field(default=None, validator=_opt_str, repr=False)
    token: str | None = field(default=None, validator=_opt_str, repr=False)
    nkey_seed: str | None = field(default=None, validator=_opt_str)  # path to an nkey seed file
    creds_file: str | None = field(default=None, validator=_opt_str)
    tls_ca: str | None = field(default=None, validator=_opt_str)
    tls_cert: str | None = field(default=None, validator=_opt_str)
    tls_key: str | None = field(default=None, validator=_opt_str)
    connect_timeout: float = field(default=5.0, validator=_pos)
    # jobs
    serializer: str = field(default="json", converter=_name, validator=validators.min_len(1))
    default_queue: str = field(default="naq_default_queue", validator=_check_queue)
    tasks: tuple[str, ...] = ()
    result_ttl: float = field(default=7 * 24 * 3600.0, validator=_pos)
    replicas: int = field(default=1, validator=[validators.ge(1), validators.le(5)])
    # workers
    concurrency: int = field(default=10, validator=[validators.ge(1), validators.le(10_000)])
    shutdown_timeout: float = field(default=30.0, validator=validators.ge(0))
    ack_wait: float = field(default=5.0, validator=validators.ge(1))  # see docs/deployment.md
    max_deliver: int = field(default=20, validator=[validators.ge(2), validators.le(1_000_000)])
    prefetch: int = field(default=200, validator=[validators.ge(0), validators.le(10_000)])
    heartbeat_interval: float = field(default=5.0, validator=_pos)
    # logging (read by the CLI only)
    log_level: str = field(
        default="info",
        converter=_level,
        validator=validators.in_(("debug", "info", "warning", "error", "critical")),
    )
    log_format: str = field(default="console", converter=_name, validator=validators.in_(("console", "json")))
    # plugin sub-tables, e.g. [tool.naq.dashboard] (repr shows their keys, never values)
    plugins: Mapping[str, Mapping[str, Any]] = field(factory=dict, repr=_table_keys)
    # where each non-default value came from: key (or "<table>.<key>" of a declared plugin
    # table) -> "naq.toml", "NAQ_X", "argument"
    sources: Mapping[str, str] = field(factory=dict, eq=False, repr=False)

    def masked(self) -> dict[str, Any]:
        """The values as a dict with secrets replaced by ``***`` (for display)."""
        data = attrs.asdict(self, filter=lambda a, _: a.name != "sources")
        for key in _SECRET_KEYS:
            if data.get(key):
                data[key] = "***"
        data["nats_url"] = [mask_url(u) for u in data["nats_url"]]
        data["plugins"] = _secrets.mask_tree(data["plugins"])
        return data

    def plugin_config(self, name: str) -> Mapping[str, Any]:
        """The ``[tool.naq.<name>]`` table for a plugin (empty if absent), as written."""
        return self.plugins.get(name, {})

    def plugin_settings(self, name: str) -> Any:
        """The validated settings of table ``name``, an instance of the attrs class a plugin
        declared with the ``naq_plugin_settings`` hook (defaults for keys not set).

        Raises :class:`~naq_core.errors.ConfigurationError` for a bad value (one line naming
        the key and where it came from) or a table no installed plugin declares.
        """
        from naq_core import plugin_settings

        return plugin_settings.settings_of(self.plugins, self.sources, name)


attrs.resolve_types(Config)
FIELDS = {a.name: a for a in attrs.fields(Config) if a.name not in ("plugins", "sources")}

_converter = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)


def _structure_strs(value: Any, _: type) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(p.strip() for p in value.split(",") if p.strip())
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ValueError(f"a list of strings or a comma-separated string, got {value!r}")


_converter.register_structure_hook_func(lambda t: t == tuple[str, ...], _structure_strs)


#: Every float setting is seconds: finite and at most 10 years (docs/security.md, Limits).
_MAX_SECONDS = 10 * 365 * 24 * 3600.0


def _structure_float(value: Any, _: type) -> float:
    try:
        if isinstance(value, bool):
            raise TypeError
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"a number, got {value!r}") from None
    if not math.isfinite(number) or abs(number) > _MAX_SECONDS:
        raise ValueError(f"a finite number of seconds up to {_MAX_SECONDS:.0f} (10 years), got {value!r}")
    return number


def _structure_int(value: Any, _: type) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | str)
        or not str(value).strip().lstrip("-").isdigit()
    ):
        raise ValueError(f"a whole number, got {value!r}")
    return int(value)


def _structure_bool(value: Any, _: type) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if isinstance(value, str | int) else None
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise ValueError(f"true or false, got {value!r}")


def _structure_str(value: Any, _: type) -> str:
    if not isinstance(value, str):
        raise ValueError(f"a string, got {value!r}")
    return value


_converter.register_structure_hook(float, _structure_float)
_converter.register_structure_hook(int, _structure_int)
_converter.register_structure_hook(str, _structure_str)
_converter.register_structure_hook(bool, _structure_bool)


def find_config_file(start: Path | None = None) -> Path | None:
    """``$NAQ_CONFIG``, else the nearest ``naq.toml`` or ``pyproject.toml`` with ``[tool.naq]``."""
    explicit = os.environ.get("NAQ_CONFIG")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigurationError(f"NAQ_CONFIG points to {explicit}, which is not a file")
        return path
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "naq.toml"
        if candidate.is_file():
            return candidate
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and "tool" in _read_toml(pyproject) and "naq" in _read_toml(pyproject)["tool"]:
            return pyproject
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path}: not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot read: {exc.strerror}") from exc


def _file_table(path: Path) -> dict[str, Any]:
    data = _read_toml(path)
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("naq", {})
    elif isinstance(data.get("tool"), dict) and "naq" in data["tool"]:
        data = data["tool"]["naq"]
    if not isinstance(data, dict):
        raise ConfigurationError(f"{path}: [tool.naq] must be a table")
    return data


def load_config(
    path: str | Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    search: bool = True,
    for_cli: bool = False,
) -> Config:
    """Merge every source into a validated :class:`Config`.

    ``path`` is an explicit config file (else :func:`find_config_file` when ``search``);
    ``env`` defaults to ``os.environ``; ``overrides`` are flags and constructor arguments
    (``None`` values are ignored). A bad value of a setting in :data:`CLI_ONLY_KEYS` raises
    only with ``for_cli`` (the ``naq`` command); otherwise it is left at its default.
    """
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    plugins: dict[str, dict[str, Any]] = {}

    file = Path(path) if path is not None else (find_config_file() if search else None)
    if file is not None:
        if not file.is_file():
            raise ConfigurationError(f"config file {file} does not exist")
        for key, value in _file_table(file).items():
            if key in FIELDS:
                values[key], sources[key] = value, str(file)
            elif isinstance(value, dict):
                plugins[key] = value
            else:
                known = ", ".join(sorted(FIELDS))
                raise ConfigurationError(f"{file}: unknown key {key!r} (known keys: {known})")

    for key, (value, var) in legacy_values(env).items():  # the original naq's names
        values[key], sources[key] = value, var
    for key in FIELDS:
        var = f"NAQ_{key.upper()}"
        if var in env and env[var] != "":
            values[key], sources[key] = env[var], var

    for key, value in (overrides or {}).items():
        if key not in FIELDS:
            raise ConfigurationError(f"unknown setting {key!r} (known: {', '.join(sorted(FIELDS))})")
        if value is not None:
            values[key], sources[key] = value, "argument"

    plugins = _plugin_tables(plugins, sources, env, file)
    checked: dict[str, Any] = {}
    for key, value in values.items():
        try:
            checked[key] = _check(key, value, sources)
        except ConfigurationError:
            if for_cli or key not in CLI_ONLY_KEYS:
                raise
            del sources[key]  # a library never refuses to work over the command line's settings
    return Config(**checked, plugins=plugins, sources=sources)


def _plugin_tables(
    plugins: dict[str, dict[str, Any]], sources: dict[str, str], env: Mapping[str, str], file: Path | None
) -> dict[str, dict[str, Any]]:
    """The declared plugin tables with their ``NAQ_<TABLE>_<KEY>`` variables, validated."""
    from naq_core import plugin_settings

    tables = {name: dict(table) for name, table in plugins.items()}
    for name, cls in plugin_settings.declared().items():
        for key in tables.get(name, {}):
            sources[f"{name}.{key}"] = str(file)
        for key, (value, var) in plugin_settings.env_values(name, cls, env).items():
            tables.setdefault(name, {})[key] = value
            sources[f"{name}.{key}"] = var
        plugin_settings.structure(name, cls, tables.get(name, {}), sources)
    return tables


def _structure_attribute(attribute: attrs.Attribute[Any], value: Any) -> Any:
    """``value`` as ``attribute``'s type, converted and validated (core and plugin settings)."""
    converted = _converter.structure(value, attribute.type)  # type: ignore[arg-type]
    if attribute.converter is not None:
        converted = attribute.converter(converted)  # type: ignore[operator]
    if attribute.validator is not None:
        attribute.validator(None, attribute, converted)
    return converted


def _check(key: str, value: Any, sources: Mapping[str, str]) -> Any:
    """Structure and validate one value, or raise one line naming key and source."""
    attribute = FIELDS[key]
    where = sources.get(key, "default")
    try:
        converted = _structure_attribute(attribute, value)
    except Exception as exc:  # cattrs and attrs validators raise several types
        reason = _reason(exc, value, key)
        reason = _secrets.mask_value(reason, value) if key in _SECRET_KEYS else _secrets.mask_text(reason)
        raise ConfigurationError(f"{where}: {key}: {reason}") from None
    return converted


def _reason(exc: BaseException, value: Any, name: str) -> str:
    """The first of cattrs' structured errors (:func:`cattrs.transform_error`), as a reason.

    ``exc`` is what structuring or validating the value ``name`` raised: a cattrs validation
    error (walked down to its first leaf) or the leaf itself.
    """
    first = cattrs.transform_error(
        exc, path=name, format_exception=lambda leaf, _: _describe(leaf, value, name)
    )
    return first[0].rpartition(f" @ {name}")[0] if first else _describe(exc, value, name)


def _describe(exc: BaseException, value: Any, name: str) -> str:
    """One leaf error as ``expected ...`` / ``must ...``.

    Structure hooks raise ``ValueError("a number, got 'x'")``; attrs validators name the
    attribute first (``'concurrency' must be >= 1: 0``), which the key already says.
    """
    text = str(exc.args[0]) if isinstance(exc, ValueError) and exc.args else str(exc)
    text = text.removeprefix(f"'{name}' ")
    if text.startswith(("must", "expected")):
        return text
    return f"expected {text}" if text else f"invalid value {value!r}"
