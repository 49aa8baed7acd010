"""The module-level shortcuts under their original module name (``from naq_core.helpers import enqueue``).

Everything lives in :mod:`naq_core.shortcuts`; this module re-exports its ``__all__``.
"""

from __future__ import annotations

from naq_core import shortcuts
from naq_core.shortcuts import *  # noqa: F403

__all__ = shortcuts.__all__
