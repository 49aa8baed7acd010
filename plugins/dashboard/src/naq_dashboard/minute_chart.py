"""The overview's "completed and failed per minute" chart, drawn on the server as SVG.

No script and no inline style (the Content Security Policy forbids them): bars are ``<rect>``
elements with classes from ``naq.css`` (``done``, ``failed``) and a ``<title>`` each, so a
pointer shows the minute's numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

from attrs import frozen

from naq_core.heartbeat import MinuteTotal

__all__ = ["Bar", "Chart", "minute_chart"]

WIDTH = 600
HEIGHT = 90
_PLOT = 72  # the bars' height; the rest holds the axis labels


@frozen(kw_only=True)
class Bar:
    """One rectangle: where, how big, its class and its tooltip."""

    x: float
    y: float
    width: float
    height: float
    kind: str
    title: str


@frozen(kw_only=True)
class Chart:
    """What the template draws: the bars, the peak (for the scale) and the totals."""

    bars: list[Bar]
    peak: int
    completed: int
    failed: int
    minutes: int
    width: int = WIDTH
    height: int = HEIGHT
    plot: int = _PLOT


def minute_chart(history: Sequence[MinuteTotal]) -> Chart:
    """Stacked bars (completed below, failed above) for each minute of ``history``."""
    peak = max((m.completed + m.failed for m in history), default=0)
    slot = WIDTH / max(1, len(history))
    bars = []
    for i, minute in enumerate(history):
        ago = len(history) - 1 - i
        when = "this minute" if ago == 0 else f"{ago} min ago"
        title = f"{when}: {minute.completed} completed, {minute.failed} failed"
        base = float(_PLOT)
        for kind, value in (("done", minute.completed), ("failed", minute.failed)):
            if value and peak:
                height = max(1.0, _PLOT * value / peak)
                base -= height
                bars.append(
                    Bar(
                        x=round(i * slot + 1, 2),
                        y=round(base, 2),
                        width=round(slot - 2, 2),
                        height=round(height, 2),
                        kind=kind,
                        title=title,
                    )
                )
    return Chart(
        bars=bars,
        peak=peak,
        completed=sum(m.completed for m in history),
        failed=sum(m.failed for m in history),
        minutes=len(history),
    )
