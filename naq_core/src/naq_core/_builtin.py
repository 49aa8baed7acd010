"""naq's own defaults, registered through the same hooks as any plugin (``trylast``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from naq_core.hookspecs import hookimpl
from naq_core.shutdown import ShutdownPolicy

if TYPE_CHECKING:
    from naq_core.config import Config
    from naq_core.worker import Worker

__all__ = ["naq_shutdown_policy"]


@hookimpl(trylast=True)
def naq_shutdown_policy(worker: Worker, config: Config) -> ShutdownPolicy:
    """Running jobs get ``shutdown_timeout`` seconds, then are cancelled and NAKed."""
    return ShutdownPolicy(grace=config.shutdown_timeout)
