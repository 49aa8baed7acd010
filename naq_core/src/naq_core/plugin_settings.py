"""Plugin configuration tables declared with the ``naq_plugin_settings`` hook.

A plugin registers an attrs class for its table::

    @frozen(kw_only=True)
    class WebhookSettings:
        url: str = "http://127.0.0.1:8080/dead-letters"
        timeout: float = field(default=5.0, validator=validators.gt(0))
        token: str | None = secret_field(default=None)


    @hookimpl
    def naq_plugin_settings(register):
        register("webhook", WebhookSettings)

and naq validates ``[tool.naq.webhook]`` (or ``[webhook]`` in ``naq.toml``) with the same
converter as its own settings whenever it loads the configuration, reads
``NAQ_WEBHOOK_<KEY>`` environment variables, masks secrets in ``naq config show`` and in
error messages (fields declared with :func:`secret_field`, and keys that look secret, such as
``password`` or ``api_key``; docs/security.md lists the rule), and gives the typed instance
to :meth:`naq_core.config.Config.plugin_settings`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from naq_core._secrets import MASK, is_secret_key, mask_text, mask_value
from naq_core.errors import ConfigurationError, PluginError

__all__ = ["SECRET", "declared", "env_values", "secret_field", "settings_of", "shown", "structure"]

#: The attrs metadata key marking a secret field: ``field(metadata={"secret": True})``.
SECRET = "secret"  # noqa: S105 - a metadata key, not a password
_MASK = MASK


def secret_field(**kwargs: Any) -> Any:
    """An attrs field holding a secret: masked by naq, and left out of the class's repr."""
    metadata = {**kwargs.pop("metadata", {}), SECRET: True}
    return attrs.field(repr=False, metadata=metadata, **kwargs)


def _is_secret(attribute: attrs.Attribute[Any]) -> bool:
    """Declared secret (:func:`secret_field`), or named like one (``password``, ``api_key``)."""
    return bool(attribute.metadata.get(SECRET)) or is_secret_key(attribute.name)


def declared() -> dict[str, type[Any]]:
    """Table name -> settings class, from every plugin's ``naq_plugin_settings``.

    Empty when the plugins cannot be loaded (that error is raised where they are used).
    """
    from naq_core.plugins import get_hooks

    found: dict[str, type[Any]] = {}

    def register(table: str, cls: type[Any]) -> None:
        if not isinstance(table, str) or not table:
            raise ConfigurationError(f"naq_plugin_settings: the table name must be a string, got {table!r}")
        if not (isinstance(cls, type) and attrs.has(cls)):
            raise ConfigurationError(f"naq_plugin_settings: [{table}] needs an attrs class, got {cls!r}")
        if found.get(table, cls) is not cls:
            raise ConfigurationError(f"two plugins declare the settings table [{table}]")
        attrs.resolve_types(cls)
        found[table] = cls

    try:
        hooks = get_hooks()
    except PluginError:
        return {}
    hook = getattr(hooks.pm.hook, "naq_plugin_settings", None)
    if hook is not None:
        hook(register=register)
    return found


def env_var(table: str, key: str) -> str:
    """``NAQ_<TABLE>_<KEY>``: ``dlq_stream.max_age`` -> ``NAQ_DLQ_STREAM_MAX_AGE``."""
    return f"NAQ_{table}_{key}".upper().replace("-", "_")


def env_values(table: str, cls: type[Any], env: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """Key -> (value, variable) for each field of ``cls`` set in ``env`` (empty means unset)."""
    found: dict[str, tuple[str, str]] = {}
    for attribute in attrs.fields(cls):
        var = env_var(table, attribute.name)
        if env.get(var):
            found[attribute.name] = (env[var], var)
    return found


def structure(table: str, cls: type[Any], values: Mapping[str, Any], sources: Mapping[str, str]) -> Any:
    """Validate ``values`` (the table) into ``cls``, or raise one line naming key and source.

    ``sources`` maps ``"<table>.<key>"`` to where the value came from.
    """
    fields = {a.name: a for a in attrs.fields(cls)}
    if not isinstance(values, Mapping):
        raise ConfigurationError(f"[{table}] must be a table, got {mask_text(repr(values))}")
    for key in values:
        if key not in fields:
            where = sources.get(f"{table}.{key}", "config")
            known = ", ".join(fields) or "none"
            raise ConfigurationError(f"{table}: unknown key {key!r}, known keys: {known} ({where})")
    checked = {key: _check(table, fields[key], value, sources) for key, value in values.items()}
    for name, attribute in fields.items():
        if name not in checked and attribute.default is attrs.NOTHING:
            raise ConfigurationError(
                f"{table}.{name}: required, not set (set it in [{table}] or {env_var(table, name)})"
            )
    try:
        return cls(**checked)
    except Exception as exc:  # a validator that looks at several fields
        raise ConfigurationError(f"{table}: {_masked_text(str(exc), cls, checked)}") from None


def _check(table: str, attribute: attrs.Attribute[Any], value: Any, sources: Mapping[str, str]) -> Any:
    from naq_core.config import _reason, _structure_attribute

    where = sources.get(f"{table}.{attribute.name}", "config")
    try:
        converted = _structure_attribute(attribute, value)
    except Exception as exc:  # cattrs and attrs validators raise several types
        reason = _reason(exc, value, attribute.name)
        reason = mask_value(reason, value) if _is_secret(attribute) else mask_text(reason)
        raise ConfigurationError(f"{table}.{attribute.name}: {reason} ({where})") from None
    return converted


def _masked_text(text: str, cls: type[Any], values: Mapping[str, Any]) -> str:
    """An error about several fields, with every secret value among ``values`` masked."""
    for attribute in attrs.fields(cls):
        if _is_secret(attribute):
            text = mask_value(text, values.get(attribute.name))
    return mask_text(text)


def settings_of(tables: Mapping[str, Mapping[str, Any]], sources: Mapping[str, str], table: str) -> Any:
    """The validated settings of ``table`` (see :meth:`naq_core.config.Config.plugin_settings`)."""
    cls = declared().get(table)
    if cls is None:
        raise ConfigurationError(
            f"no installed plugin declares the settings table [{table}] (hook naq_plugin_settings)"
        )
    return structure(table, cls, tables.get(table, {}), sources)


def shown(instance: Any) -> dict[str, Any]:
    """The fields of a settings instance for display: secrets that are set become ``***``."""
    values: dict[str, Any] = {}
    for attribute in attrs.fields(type(instance)):
        value = getattr(instance, attribute.name)
        if _is_secret(attribute) and value not in (None, ""):
            values[attribute.name] = _MASK
        else:
            values[attribute.name] = mask_text(value) if isinstance(value, str) else value
    return values
