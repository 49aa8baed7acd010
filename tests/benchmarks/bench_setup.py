"""What every benchmark script sets up: quiet logging, plugins, a private nats-server, versions."""

from __future__ import annotations

import logging
import platform
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

import structlog

from naq_core.plugins import new_plugin_manager, reset_plugin_manager
from naq_core.server import EmbeddedServer, free_port, server_version

__all__ = [
    "install_plugins",
    "platform_meta",
    "plugin_names",
    "private_server",
    "progress",
    "quiet_logging",
    "version",
]


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def quiet_logging() -> None:
    """The library logs every job at info; a benchmark wants warnings only, on stderr."""
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )


def install_plugins() -> None:
    """Entry points as installed; the JSON serializer registered by hand if it is not."""
    pm = new_plugin_manager(load_entrypoints=True)
    if pm.get_plugin("json") is None:
        import naq_json_serializer

        pm.register(naq_json_serializer, name="json")
    reset_plugin_manager(pm)


def plugin_names() -> list[str]:
    """The naq plugins installed here (their lifecycle hooks run in the workers measured)."""
    from naq_core.plugins import list_plugins

    return [info["name"] for info in list_plugins()]


def version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def platform_meta() -> dict[str, Any]:
    """Python, platform and the versions of nats-server, nats-py and naq-core."""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "nats_server": server_version(),
        "nats_py": version("nats-py"),
        "naq_core": version("naq-core"),
    }


@contextmanager
def private_server(prefix: str) -> Iterator[tuple[EmbeddedServer, Path]]:
    """A nats-server on a free loopback port and a temporary directory (its store and log).

    The server is stopped by its pid and the directory deleted when the block ends.
    """
    with tempfile.TemporaryDirectory(prefix=prefix) as name:
        tmp = Path(name)
        server = EmbeddedServer(port=free_port(), store_dir=tmp / "jetstream", log_file=tmp / "nats.log")
        server.start()
        progress(f"nats-server pid {server.pid} on {server.url}")
        try:
            yield server, tmp
        finally:
            server.stop()
