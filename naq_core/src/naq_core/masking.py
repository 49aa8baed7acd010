"""Masking secrets for display: what a screen (the dashboard's job page) applies to values
it shows, with the rules naq uses for its own configuration.

A key whose name looks secret (``password``, ``token``, ``api_key``, ``secret``, ... but
not ``key_file``) has its value shown as :data:`MASK`; URL user-info in any text value
is masked too. Nested mappings and lists are masked the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from naq_core import _secrets

__all__ = ["MASK", "is_secret_key", "mask_secrets"]

#: What a hidden value is shown as.
MASK = _secrets.MASK


def is_secret_key(key: str) -> bool:
    """Whether a value named ``key`` holds a secret (``api_key``: yes; ``key_file``: no)."""
    return _secrets.is_secret_key(key)


def mask_secrets(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` for display: secret-looking keys as :data:`MASK` (at any depth), URL
    user-info in texts masked; ``values`` itself is left unchanged."""
    return _secrets.mask_tree(values)
