"""The NATS fixtures for the example plugins' tests (run from this folder: see README.md)."""

from __future__ import annotations

pytest_plugins = ["naq_core.testing.fixtures"]
