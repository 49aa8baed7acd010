"""Test helpers for naq and its plugins.

The pytest fixtures (``nats_server``, ``nats_url``, ``fresh_nats_server``) live in the
plugin module :mod:`naq_core.testing.fixtures`; opt in from a ``conftest.py`` with::

    pytest_plugins = ["naq_core.testing.fixtures"]

This package deliberately does not import that module, so importing ``naq_core.testing``
never defeats pytest's assertion rewriting of the plugin. :func:`only_plugins` runs a block
with exactly the plugins a test names. Both contract suites are imported from here::

    from naq_core.testing import DeadLetterSinkContract, SerializerContract

each on first use, so importing ``naq_core.testing`` does not import pytest or hypothesis
(their modules, :mod:`naq_core.testing.sink_contract` and
:mod:`naq_core.testing.serializer_contract`, work as well).

Two modules help any test and need nothing but naq-core: :mod:`naq_core.testing.worker`
(``running_worker``, ``worker_thread``, and ``wait_until`` / ``eventually``, which must be
awaited: forgetting ``await`` raises or warns instead of passing) and
:mod:`naq_core.testing.process` (``naq`` and other children on a pseudo-terminal or writing
to files, every wait bounded, stopped by pid; the ``child_processes`` fixture).
:mod:`naq_core.testing.permissions` reads the least-privilege configuration of
``docs/security.md`` (``documented_config``, ``PASSWORDS``) for tests that run it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pluggy

from naq_core.plugins import new_plugin_manager, reset_plugin_manager
from naq_core.server import EmbeddedServer, free_port

if TYPE_CHECKING:
    from naq_core.testing.serializer_contract import SerializerContract
    from naq_core.testing.sink_contract import DeadLetterSinkContract

__all__ = [
    "DeadLetterSinkContract",
    "EmbeddedServer",
    "NatsServer",
    "SerializerContract",
    "free_port",
    "only_plugins",
]

NatsServer = EmbeddedServer
"""What the ``nats_server`` / ``fresh_nats_server`` fixtures yield (for type hints)."""


@contextmanager
def only_plugins(*plugins: object) -> Iterator[pluggy.PluginManager]:
    """naq's built-ins and exactly ``plugins`` (no entry point is loaded) for the ``with`` block.

    The process-wide plugin manager is replaced, so everything naq does in the block (a
    ``Queue``, a ``Worker``, the CLI) sees these plugins; the previous manager comes back
    after. Yields the new manager (to register more, by name for instance)::

        @pytest.fixture(autouse=True)
        def _plugins():
            with only_plugins(naq_json_serializer, my_plugin):
                yield
    """
    pm = new_plugin_manager(load_entrypoints=False, plugins=plugins)
    old = reset_plugin_manager(pm)
    try:
        yield pm
    finally:
        reset_plugin_manager(old.pm if old is not None else None)


def __getattr__(name: str) -> Any:
    if name == "DeadLetterSinkContract":
        from naq_core.testing.sink_contract import DeadLetterSinkContract

        return DeadLetterSinkContract
    if name == "SerializerContract":
        from naq_core.testing.serializer_contract import SerializerContract

        return SerializerContract
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
