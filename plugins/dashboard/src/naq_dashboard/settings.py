"""``[tool.naq.dashboard]``: where the dashboard listens, who may use it, what it may change.

Declared through the ``naq_plugin_settings`` hook, so naq validates the table whenever it
loads the configuration, reads ``NAQ_DASHBOARD_<KEY>`` variables (``NAQ_DASHBOARD_TOKEN``,
``NAQ_DASHBOARD_PASSWORD``, ...) and masks the secrets in ``naq config show``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
from attrs import field, frozen, validators

from naq_core.config import Config
from naq_core.hookspecs import hookimpl
from naq_core.plugin_settings import secret_field

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "SECTION", "DashboardSettings", "naq_plugin_settings"]

SECTION = "dashboard"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


def _port(_: object, __: attrs.Attribute[Any], value: int) -> None:
    if not 1 <= value <= 65535:
        raise ValueError(f"must be a TCP port 1-65535, got {value!r}")


@frozen(kw_only=True)
class DashboardSettings:
    """The dashboard's table.

    ``host`` / ``port``: where ``naq dashboard`` listens (loopback by default; any other
    address needs ``token`` or ``username`` + ``password``).
    ``token``: a bearer token (``Authorization: Bearer <token>``, or the login form).
    ``username`` / ``password``: HTTP basic auth.
    ``read_only``: remove every action (enforced by the server, not only hidden).
    ``environment``: a label shown on every page ("production", "staging").
    ``title``: the name in the page header.
    """

    host: str = field(default=DEFAULT_HOST, validator=validators.min_len(1))
    port: int = field(default=DEFAULT_PORT, validator=_port)
    token: str | None = secret_field(default=None)
    username: str | None = field(default=None)
    password: str | None = secret_field(default=None)
    read_only: bool = field(default=False)
    environment: str | None = field(default=None, validator=validators.optional(validators.max_len(40)))
    title: str = field(default="naq", validator=[validators.min_len(1), validators.max_len(60)])

    @property
    def has_auth(self) -> bool:
        """Whether a token or a user name and password are configured."""
        return bool(self.token) or bool(self.username and self.password)

    @classmethod
    def from_config(cls, config: Config) -> DashboardSettings:
        """The validated ``[tool.naq.dashboard]`` table of ``config``."""
        settings = config.plugin_settings(SECTION)
        if not isinstance(settings, cls):  # another plugin took the table name
            raise TypeError(f"[{SECTION}] is declared by another plugin ({type(settings).__name__})")
        return settings


@hookimpl
def naq_plugin_settings(register: Callable[[str, type], None]) -> None:
    """Declare ``[tool.naq.dashboard]``."""
    register(SECTION, DashboardSettings)
