"""A worker process for the killed-worker test: ``python dlq_kill_worker.py URL QUEUE``.

It registers its plugins explicitly (the json serializer only), so it runs the same whether
or not the distributions are installed, with ``max_deliver=2`` and ``ack_wait=1``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import naq_json_serializer
from naq_core import Worker
from naq_core.plugins import new_plugin_manager, reset_plugin_manager


def main(url: str, queue: str) -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    reset_plugin_manager(new_plugin_manager(load_entrypoints=False, plugins=[naq_json_serializer]))
    Worker(queue, url, tasks=["dlq_tasks"], max_deliver=2, ack_wait=1.0).run_sync()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
