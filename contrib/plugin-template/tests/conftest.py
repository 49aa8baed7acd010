"""The NATS fixtures (``nats_server``, ``nats_url``, ...) from naq-core's pytest plugin.

pytest accepts ``pytest_plugins`` only in the conftest.py at the root of a test run: run the
tests from this project's folder (``pytest``), where this file is that root.
"""

from __future__ import annotations

pytest_plugins = ["naq_core.testing.fixtures"]
