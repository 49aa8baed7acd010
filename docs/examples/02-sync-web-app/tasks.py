"""Tasks of the web-app example: slow work a web view hands to a worker.

Run them with ``naq worker web -t tasks`` from this folder.
"""

from __future__ import annotations

import time


def count_words(text: str) -> dict[str, int]:
    """Pretend to be slow (the reason to run it outside the request), then count words."""
    time.sleep(0.2)
    counts: dict[str, int] = {}
    for word in text.lower().split():
        counts[word] = counts.get(word, 0) + 1
    return counts
