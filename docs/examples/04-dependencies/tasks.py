"""Tasks of the dependencies example: two downloads, a merge that needs both, a report.

Run them with ``naq worker deps -t tasks -c 4`` from this folder. A dependent job does not
receive the results of the jobs it depends on: it only starts once they all completed. Here
the tasks note what they did in the worker's memory (the example runs one worker), so the
merge can show that both downloads were done before it started.
"""

from __future__ import annotations

import time

_done: dict[str, list[str]] = {}  # run -> the steps finished so far, in order


def download(run: str, name: str) -> str:
    if name.startswith("missing"):
        raise FileNotFoundError(f"{name} does not exist")
    time.sleep(0.5)
    _done.setdefault(run, []).append(name)
    return f"downloaded {name}"


def merge(run: str) -> str:
    before = sorted(_done.get(run, []))
    _done.setdefault(run, []).append("merge")
    return f"merged {', '.join(before)}"


def report(run: str) -> str:
    if "merge" not in _done.get(run, []):
        return "report ran before the merge"  # never happens: it depends on the merge
    return "report built after the merge"
