"""contrib/plugin-template is a project of its own, not a package of this repository.

Its tests run from a renamed copy installed into a fresh venv, where its own
``tests/conftest.py`` is the root conftest (tests/integration/test_plugin_template.py): a run
from the repository root skips the folder (its ``pytest_plugins`` would be refused below
the root, and its package is not installed here).
"""

from __future__ import annotations

collect_ignore = ["plugin-template"]
