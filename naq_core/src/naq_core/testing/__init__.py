"""Test helpers for naq and its plugins.

The pytest fixtures (``nats_server``, ``nats_url``, ``fresh_nats_server``) live in the
plugin module :mod:`naq_core.testing.fixtures`; opt in from a ``conftest.py`` with::

    pytest_plugins = ["naq_core.testing.fixtures"]

This package deliberately does not import that module, so importing ``naq_core.testing``
never defeats pytest's assertion rewriting of the plugin.
"""

from __future__ import annotations

from naq_core.server import EmbeddedServer, free_port

__all__ = ["EmbeddedServer", "NatsServer", "free_port"]

NatsServer = EmbeddedServer
"""What the ``nats_server`` / ``fresh_nats_server`` fixtures yield (for type hints)."""
