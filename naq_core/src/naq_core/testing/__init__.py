"""Test helpers for naq and its plugins.

The pytest fixtures (``nats_server``, ``nats_url``, ``fresh_nats_server``) live in the
plugin module :mod:`naq_core.testing.fixtures`; opt in from a ``conftest.py`` with::

    pytest_plugins = ["naq_core.testing.fixtures"]

This package deliberately does not import that module, so importing ``naq_core.testing``
never defeats pytest's assertion rewriting of the plugin. The contract suites need pytest:
:class:`DeadLetterSinkContract` is imported on first use (so importing ``naq_core.testing``
does not import pytest), ``SerializerContract`` lives in
:mod:`naq_core.testing.serializer_contract`.

Two modules help any test and need nothing but naq-core: :mod:`naq_core.testing.worker`
(``running_worker``, ``worker_thread``, ``wait_until``, ``eventually``) and
:mod:`naq_core.testing.process` (``naq`` and other children on a pseudo-terminal or writing
to files, every wait bounded, stopped by pid; the ``child_processes`` fixture).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from naq_core.server import EmbeddedServer, free_port

if TYPE_CHECKING:
    from naq_core.testing.sink_contract import DeadLetterSinkContract

__all__ = ["DeadLetterSinkContract", "EmbeddedServer", "NatsServer", "free_port"]

NatsServer = EmbeddedServer
"""What the ``nats_server`` / ``fresh_nats_server`` fixtures yield (for type hints)."""


def __getattr__(name: str) -> Any:
    if name == "DeadLetterSinkContract":
        from naq_core.testing.sink_contract import DeadLetterSinkContract

        return DeadLetterSinkContract
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
