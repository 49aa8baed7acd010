"""Parameter types shared by ``naq`` commands and plugin commands.

:data:`QUEUE_NAME` checks a queue name given on the command line with the validator
:class:`~naq_core.queue.Queue` uses (:func:`naq_core.config.validate_queue_name`), before
anything connects: a bad name is a usage error, one line and exit code 2::

    @click.option("--queue", type=QUEUE_NAME, help="Only this queue.")
"""

from __future__ import annotations

from typing import Any

import click

from naq_core.config import validate_queue_name
from naq_core.errors import ConfigurationError

__all__ = ["QUEUE_NAME", "QueueName"]


class QueueName(click.ParamType[str]):
    """A queue name: 1-128 letters, digits, ``_`` or ``-``."""

    name = "queue"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        try:
            return validate_queue_name(value)
        except ConfigurationError as exc:
            self.fail(str(exc), param, ctx)


#: The one instance every queue option and argument uses.
QUEUE_NAME = QueueName()
