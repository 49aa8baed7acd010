"""Cron expressions and intervals in plain words: ``every 5 minutes``, ``at 09:00 on Monday through Friday``.

:func:`cron_words` says the common shapes (fixed times, every N minutes/hours, hour ranges,
weekdays, days of the month, months, the ``@hourly`` & co. macros) and returns the
expression itself for anything it cannot say exactly (``L``, ``W``, ``#``, steps over days,
many fixed times). It takes the 5-field form (minute first) and the 6-field form naq stores
(second first). Times are in the schedule's time zone, which the caller shows beside them.
"""

from __future__ import annotations

from attrs import frozen

__all__ = ["cron_words", "interval_words"]

_MACROS = {
    "@yearly": "at 00:00 on January 1",
    "@annually": "at 00:00 on January 1",
    "@monthly": "at 00:00 on day 1 of the month",
    "@weekly": "at 00:00 on Sunday",
    "@daily": "every day at 00:00",
    "@midnight": "every day at 00:00",
    "@hourly": "every hour",
}
_DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_DAY_NAMES = {d[:3].upper(): i for i, d in enumerate(_DAYS)}
_MONTH_NAMES = {m[:3].upper(): i + 1 for i, m in enumerate(_MONTHS)}
_MAX_TIMES = 6  # more fixed times than this read worse in words than the expression


class _Unsayable(Exception):
    """The expression has a shape these words do not cover: show it as it is."""


@frozen
class _Field:
    """One parsed field: ``any`` (``*``), ``step`` (every ``step`` from ``start``),
    ``range`` (``low`` through ``high``) or ``values`` (a sorted list)."""

    kind: str
    values: tuple[int, ...] = ()
    start: int = 0
    step: int = 1
    low: int = 0
    high: int = 0


def _number(text: str, low: int, high: int, names: dict[str, int]) -> int:
    upper = text.upper()
    if upper in names:
        return names[upper]
    if not text.isdigit():
        raise _Unsayable(text)
    value = int(text)
    if not low <= value <= high:
        raise _Unsayable(text)
    return value


def _parse(text: str, low: int, high: int, names: dict[str, int] | None = None) -> _Field:
    names = names or {}
    if text in ("*", "?"):
        return _Field("any")
    if "/" in text:
        base, _, step_text = text.partition("/")
        if not step_text.isdigit() or int(step_text) < 1:
            raise _Unsayable(text)
        step = int(step_text)
        if base in ("*", "?"):
            return _Field("step", start=low, step=step)
        if base.isdigit() or base.upper() in names:
            return _Field("step", start=_number(base, low, high, names), step=step)
        raise _Unsayable(text)
    if "," not in text and "-" in text:
        first, _, last = text.partition("-")
        a, b = _number(first, low, high, names), _number(last, low, high, names)
        if a >= b:
            raise _Unsayable(text)
        return _Field("range", low=a, high=b)
    values: set[int] = set()
    for part in text.split(","):
        if "-" in part:
            first, _, last = part.partition("-")
            a, b = _number(first, low, high, names), _number(last, low, high, names)
            if a > b:
                raise _Unsayable(text)
            values.update(range(a, b + 1))
        else:
            values.add(_number(part, low, high, names))
    return _Field("values", values=tuple(sorted(values)))


def _join(items: list[str]) -> str:
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


def _clock(hour: int, minute: int, second: int = 0) -> str:
    return f"{hour:02d}:{minute:02d}" + (f":{second:02d}" if second else "")


def _plural(n: int, unit: str) -> str:
    return f"every {unit}" if n == 1 else f"every {n} {unit}s"


def _hours_span(hours: _Field) -> str:
    """The hours a repeating time runs in: ``from 09:00 through 17:59``, ``during hours 9 and 17``."""
    if hours.kind == "range":
        return f"from {_clock(hours.low, 0)} through {_clock(hours.high, 59)}"
    if hours.kind == "values" and len(hours.values) == 1:
        h = hours.values[0]
        return f"from {_clock(h, 0)} through {_clock(h, 59)}"
    if hours.kind == "values":
        return "during hours " + _join([str(h) for h in hours.values])
    raise _Unsayable("hours")


def _time(seconds: _Field, minutes: _Field, hours: _Field) -> tuple[str, bool]:
    """The time of day part and whether it is a fixed time (``at 09:00``) rather than repeating."""
    if seconds.kind != "values" or seconds.values != (0,):
        if minutes.kind == "any" and hours.kind == "any":
            if seconds.kind == "any":
                return "every second", False
            if seconds.kind == "step" and seconds.start == 0:
                return _plural(seconds.step, "second"), False
        if seconds.kind == "values" and len(seconds.values) == 1 and minutes.kind == hours.kind == "values":
            pass  # a fixed time with seconds, below
        else:
            raise _Unsayable("seconds")
    second = seconds.values[0]
    if minutes.kind == "values" and hours.kind == "values":
        if len(minutes.values) * len(hours.values) > _MAX_TIMES:
            raise _Unsayable("too many times")
        times = [_clock(h, m, second) for h in hours.values for m in minutes.values]
        return "at " + _join(times), True
    if second:
        raise _Unsayable("seconds")
    if minutes.kind == "any":
        words = "every minute"
    elif minutes.kind == "step":
        words = _plural(minutes.step, "minute")
        if minutes.start:
            words += f" from minute {minutes.start}"
    elif minutes.kind == "values":  # fixed minutes of some hours (fixed hours returned above)
        words = ""
    elif minutes.kind == "range":
        words = f"every minute from minute {minutes.low} through {minutes.high}"
    else:
        raise _Unsayable("minutes")
    if hours.kind == "any":
        if words:
            return words, False
        if minutes.values == (0,):
            return "every hour", False
        mins = _join([str(m) for m in minutes.values])
        return f"every hour at minute{'s' if len(minutes.values) > 1 else ''} {mins}", False
    if hours.kind == "step":
        if words or hours.start or len(minutes.values) != 1:
            raise _Unsayable("hours")
        minute = minutes.values[0]
        every = _plural(hours.step, "hour")
        return (every if minute == 0 else f"{every} at minute {minute}"), False
    if not words:  # fixed minutes over an hour range: every hour at :MM from … through …
        if hours.kind != "range" or len(minutes.values) != 1:
            raise _Unsayable("minutes")
        m = minutes.values[0]
        return f"every hour from {_clock(hours.low, m)} through {_clock(hours.high, m)}", False
    return f"{words} {_hours_span(hours)}", False


def _days(days: _Field, weekdays: _Field, months: _Field) -> str:
    """``on Monday through Friday``, ``on day 1 of the month``, ``in January`` or ``""`` (every day)."""
    parts: list[str] = []
    on_days = ""
    if days.kind == "values":
        numbers = [str(d) for d in days.values]
        on_days = f"on day{'s' if len(numbers) > 1 else ''} {_join(numbers)} of the month"
    elif days.kind == "range":
        on_days = f"on days {days.low} through {days.high} of the month"
    elif days.kind != "any":
        raise _Unsayable("days")
    on_weekdays = ""
    if weekdays.kind == "values":
        names = sorted({d % 7 for d in weekdays.values})
        on_weekdays = "on " + _join([_DAYS[d] for d in names])
    elif weekdays.kind == "range":
        if weekdays.high > 7 or weekdays.low == weekdays.high % 7:
            raise _Unsayable("weekdays")
        on_weekdays = f"on {_DAYS[weekdays.low % 7]} through {_DAYS[weekdays.high % 7]}"
    elif weekdays.kind != "any":
        raise _Unsayable("weekdays")
    if on_days and on_weekdays:  # cron fires on either
        parts.append(f"{on_days} or {on_weekdays}")
    elif on_days or on_weekdays:
        parts.append(on_days or on_weekdays)
    if months.kind == "values":
        parts.append("in " + _join([_MONTHS[m - 1] for m in months.values]))
    elif months.kind == "range":
        parts.append(f"in {_MONTHS[months.low - 1]} through {_MONTHS[months.high - 1]}")
    elif months.kind != "any":
        raise _Unsayable("months")
    return " ".join(parts)


def cron_words(expression: str) -> str:
    """``expression`` in plain words, or ``expression`` itself when it cannot be said exactly."""
    text = " ".join(expression.split())
    if text.lower() in _MACROS:
        return _MACROS[text.lower()]
    fields = text.split(" ")
    if len(fields) == 5:
        fields.insert(0, "0")
    if len(fields) != 6:
        return text
    try:
        seconds = _parse(fields[0], 0, 59)
        minutes = _parse(fields[1], 0, 59)
        hours = _parse(fields[2], 0, 23)
        days = _parse(fields[3], 1, 31)
        months = _parse(fields[4], 1, 12, _MONTH_NAMES)
        weekdays = _parse(fields[5], 0, 7, _DAY_NAMES)
        time_words, fixed = _time(seconds, minutes, hours)
        day_words = _days(days, weekdays, months)
    except _Unsayable:
        return text
    if not day_words:
        return f"every day {time_words}" if fixed else time_words
    return f"{time_words} {day_words}"


def interval_words(seconds: float) -> str:
    """``every 30 seconds``, ``every 5 minutes``, ``every hour``, ``every 2 days``, ``every 1.5 seconds``."""
    if seconds <= 0:
        return f"every {seconds:g} seconds"
    if not float(seconds).is_integer():
        return f"every {seconds:g} seconds"
    whole = int(seconds)
    for size, unit in ((604800, "week"), (86400, "day"), (3600, "hour"), (60, "minute")):
        if whole % size == 0:
            return _plural(whole // size, unit)
    return _plural(whole, "second")
