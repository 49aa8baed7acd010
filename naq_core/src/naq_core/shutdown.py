"""What a stopping worker does with the jobs it is running."""

from __future__ import annotations

from attrs import field, frozen, validators

__all__ = ["ShutdownPolicy"]


@frozen(kw_only=True)
class ShutdownPolicy:
    """Returned by the ``naq_shutdown_policy`` hook.

    ``grace`` is how many seconds running jobs get to finish after SIGTERM/SIGINT (``None``
    waits for ever). After it, async jobs are cancelled and every unfinished job is NAKed so
    another worker picks it up at once.
    """

    grace: float | None = field(validator=validators.optional(validators.ge(0)))
