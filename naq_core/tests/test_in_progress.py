"""The in_progress sweep: every held message is heard of within ack_wait / 3 of its
delivery and of its last sign, whatever its delivery's phase against the sweep.

The sweep is driven on a made-up clock (``progress_due`` takes ``now``), so these tests
check what is sent when, not how long anything took.
"""

from __future__ import annotations

from nats.aio.msg import Msg

from naq_core._running import RunningJob, progress_due

ACK_WAIT = 1.0
EVERY = ACK_WAIT / 3
TICK = 0.1  # the worker's sweep period for this ack_wait (min(0.1, every / 3))


def _held(received: float) -> RunningJob:
    msg = Msg(_client=None, subject="naq.queue.q.j", reply="$JS.ACK.x")  # type: ignore[arg-type]
    return RunningJob(msg, "q", received, progressed=received)


def _signs(received: float, until: float) -> list[float]:
    """When a message delivered at ``received`` gets its in_progress signs, the sweep
    running every ``TICK`` from 0 on."""
    record = _held(received)
    sent = []
    for k in range(int(until / TICK) + 1):
        now = k * TICK
        if now >= received and progress_due([record], now, EVERY):
            sent.append(now)
    return sent


def test_every_delivery_phase_is_heard_of_well_within_ack_wait() -> None:
    # deliveries spread over one tick and one sweep period, including just after a sweep
    for i in range(100):
        received = 1.0 + i * (EVERY + TICK) / 100
        signs = _signs(received, until=received + 4 * ACK_WAIT)
        gaps = [b - a for a, b in zip([received, *signs], signs, strict=False)]
        # each sign within every + one tick of the one before (or of the delivery):
        # well inside ack_wait, with room for a busy loop
        assert max(gaps) <= EVERY + TICK + 1e-9, (received, gaps)
        assert max(gaps) < ACK_WAIT / 2
        assert len(signs) >= int(4 * ACK_WAIT / (EVERY + TICK)), (received, signs)


def test_a_message_is_not_signed_before_it_is_due_nor_once_answered() -> None:
    record = _held(received=10.0)
    assert progress_due([record], 10.0 + EVERY / 2, EVERY) == []  # too soon
    assert progress_due([record], 10.0 + EVERY, EVERY) == [record]
    assert record.progressed == 10.0 + EVERY  # its own clock starts again
    assert progress_due([record], 10.0 + EVERY * 1.5, EVERY) == []
    record.msg._ackd = True  # acked, NAKed or termed: no more signs
    assert progress_due([record], 100.0, EVERY) == []
