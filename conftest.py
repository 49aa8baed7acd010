"""Repository-wide pytest setup: every test may use a real nats-server.

The fixtures (``nats_server``, ``nats_url``, ``fresh_nats_server``) come from naq-core's
pytest plugin. pytest accepts ``pytest_plugins`` only in the rootdir's conftest, so it is
registered here once, for naq_core/tests, every plugin's tests and tests/.
"""

from __future__ import annotations

pytest_plugins = ["naq_core.testing.fixtures"]
