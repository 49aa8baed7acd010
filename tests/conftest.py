"""Cross-distribution tests: every test here may use a real nats-server.

The fixtures (``nats_server``, ``nats_url``, ``fresh_nats_server``) come from naq-core's
pytest plugin, registered once, here at the top of ``tests/``.
"""

from __future__ import annotations

pytest_plugins = ["naq_core.testing.fixtures"]
