"""One way to say "this is deprecated": a warning once per process, aimed at the user's code.

Used by :mod:`naq_core.compat` (the original naq's Python names) and by the reading of the
original naq's environment variables (:mod:`naq_core._legacy_env`). The warning points at
the first frame outside naq, so Python shows it when that frame is the user's script
(``__main__``) or when warnings are enabled (``python -W default``, pytest).
"""

from __future__ import annotations

import os
import sys
import threading
import warnings

__all__ = ["REMOVED_IN", "warn_once"]

#: The release that removes every compatibility name and stops reading the old variables.
REMOVED_IN = "naq 1.0"

_PACKAGE_DIR = os.path.dirname(__file__) + os.sep  # as in co_filename: not resolved
_warned: set[str] = set()
_warned_lock = threading.Lock()


def _outside_naq() -> int:
    """The ``stacklevel`` of the first frame (from :func:`warn_once`'s caller up) outside naq.

    Frames of the import machinery (``from naq_core import X`` reaches a module
    ``__getattr__`` through ``importlib``) are not counted: :func:`warnings.warn` skips them.
    """
    frame = sys._getframe(2)  # the caller of warn_once; stacklevel 2
    level = 2
    while frame.f_back is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_PACKAGE_DIR):
            if "importlib" not in filename or "_bootstrap" not in filename:
                break
        else:
            level += 1
        frame = frame.f_back
    return level


def warn_once(key: str, message: str) -> None:
    """Issue ``message`` as a :class:`DeprecationWarning` the first time ``key`` is seen."""
    with _warned_lock:
        if key in _warned:
            return
        _warned.add(key)
    warnings.warn(message, DeprecationWarning, stacklevel=_outside_naq())
