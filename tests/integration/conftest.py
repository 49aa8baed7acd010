"""Fixtures for the integration tests, which run with every distribution installed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from naq_core.plugins import Hooks, new_plugin_manager, reset_plugin_manager


@pytest.fixture
def installed_hooks(monkeypatch: pytest.MonkeyPatch) -> Iterator[Hooks]:
    """The process-wide hooks built from the installed ``naq`` entry points, as users get them.

    Any allow-list or config file of the environment running the tests is set aside, and the
    previous process-wide plugin manager is put back afterwards.
    """
    for name in ("NAQ_LOAD_PLUGINS", "NAQ_CONFIG", "NAQ_SERIALIZER"):
        monkeypatch.delenv(name, raising=False)
    hooks = Hooks(new_plugin_manager(load_entrypoints=True))
    old = reset_plugin_manager(hooks.pm)
    try:
        yield hooks
    finally:
        reset_plugin_manager(old.pm if old is not None else None)


@pytest.fixture
def queue_name() -> str:
    """A queue name no other test uses (the session's server is shared)."""
    return f"it_{uuid.uuid4().hex[:12]}"
