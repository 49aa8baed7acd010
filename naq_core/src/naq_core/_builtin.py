"""naq's own defaults, registered through the same hooks as any plugin.

This module is the one place each default lives; the plugin manager registers it as the
plugin ``naq_core.builtin`` (listed by ``naq --plugins``). Each default is a ``trylast``
wrapper around a ``firstresult`` hook: it sees the answer of the other implementations and
gives its own only when every one of them deferred (returned ``None``), so any plugin wins
over it, however the plugins are ordered (several ``trylast`` plugins included).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING

from naq_core.hookspecs import hookimpl
from naq_core.shutdown import ShutdownPolicy

if TYPE_CHECKING:
    from naq_core.config import Config

__all__ = [
    "default_confirmation",
    "default_shutdown_policy",
    "naq_confirm_destructive",
    "naq_shutdown_policy",
]


def default_shutdown_policy(config: Config) -> ShutdownPolicy:
    """Running jobs get ``shutdown_timeout`` seconds, then are cancelled and NAKed."""
    return ShutdownPolicy(grace=config.shutdown_timeout)


def default_confirmation() -> bool:
    """Go ahead: naq asks only when a confirming plugin (naq-confirm-purge) is installed."""
    return True


@hookimpl(wrapper=True, trylast=True)
def naq_shutdown_policy(config: Config) -> Generator[None, ShutdownPolicy | None, ShutdownPolicy]:
    """The plugins' policy, else :func:`default_shutdown_policy`."""
    policy = yield
    return policy if policy is not None else default_shutdown_policy(config)


@hookimpl(wrapper=True, trylast=True)
def naq_confirm_destructive() -> Generator[None, bool | None, bool]:
    """The plugins' answer, else :func:`default_confirmation`."""
    answer = yield
    return answer if answer is not None else default_confirmation()
