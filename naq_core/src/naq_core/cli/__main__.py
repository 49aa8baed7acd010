"""``python -m naq_core.cli``: the same as the ``naq`` console script."""

from __future__ import annotations

from naq_core.cli import main

__all__: list[str] = []

if __name__ == "__main__":
    main()
