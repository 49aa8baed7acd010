"""Cron expressions and intervals in plain words, and the expression itself when words cannot say it."""

from __future__ import annotations

import pytest

from naq_dashboard.cron_words import cron_words, interval_words


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        # macros
        ("@hourly", "every hour"),
        ("@daily", "every day at 00:00"),
        ("@midnight", "every day at 00:00"),
        ("@weekly", "at 00:00 on Sunday"),
        ("@monthly", "at 00:00 on day 1 of the month"),
        ("@yearly", "at 00:00 on January 1"),
        ("@annually", "at 00:00 on January 1"),
        # every N
        ("* * * * *", "every minute"),
        ("*/5 * * * *", "every 5 minutes"),
        ("0/15 * * * *", "every 15 minutes"),
        ("5/15 * * * *", "every 15 minutes from minute 5"),
        ("0 * * * *", "every hour"),
        ("30 * * * *", "every hour at minute 30"),
        ("0,30 * * * *", "every hour at minutes 0 and 30"),
        ("0 */2 * * *", "every 2 hours"),
        ("15 */6 * * *", "every 6 hours at minute 15"),
        ("10-20 * * * *", "every minute from minute 10 through 20"),
        # fixed times
        ("0 9 * * *", "every day at 09:00"),
        ("30 17 * * *", "every day at 17:30"),
        ("0 9,17 * * *", "every day at 09:00 and 17:00"),
        ("0,30 9 * * *", "every day at 09:00 and 09:30"),
        # weekdays (names, numbers, ranges, lists, 7 is Sunday)
        ("0 9 * * MON-FRI", "at 09:00 on Monday through Friday"),
        ("0 9 * * 1-5", "at 09:00 on Monday through Friday"),
        ("0 9 * * mon", "at 09:00 on Monday"),
        ("0 9 * * 1,4", "at 09:00 on Monday and Thursday"),
        ("0 10 * * 6,0", "at 10:00 on Sunday and Saturday"),
        ("0 10 * * 7", "at 10:00 on Sunday"),
        ("0 0 * * SAT,SUN", "at 00:00 on Sunday and Saturday"),
        # hour ranges
        ("*/15 9-17 * * *", "every 15 minutes from 09:00 through 17:59"),
        ("* 9-17 * * MON-FRI", "every minute from 09:00 through 17:59 on Monday through Friday"),
        ("0 9-17 * * *", "every hour from 09:00 through 17:00"),
        ("*/10 9 * * *", "every 10 minutes from 09:00 through 09:59"),
        ("*/10 9,17 * * *", "every 10 minutes during hours 9 and 17"),
        # days of the month and months
        ("0 0 1 * *", "at 00:00 on day 1 of the month"),
        ("0 6 1,15 * *", "at 06:00 on days 1 and 15 of the month"),
        ("0 6 1-7 * *", "at 06:00 on days 1 through 7 of the month"),
        ("0 0 1 1 *", "at 00:00 on day 1 of the month in January"),
        ("0 8 * JAN-MAR *", "at 08:00 in January through March"),
        ("0 8 * 6,12 *", "at 08:00 in June and December"),
        ("0 0 1 * MON", "at 00:00 on day 1 of the month or on Monday"),
        # the 6-field form naq stores (second first)
        ("0 */5 * * * *", "every 5 minutes"),
        ("0 0 9 * * MON-FRI", "at 09:00 on Monday through Friday"),
        ("30 0 9 * * *", "every day at 09:00:30"),
        ("* * * * * *", "every second"),
        ("*/10 * * * * *", "every 10 seconds"),
        # spacing does not matter
        ("  0   9 * *  1-5 ", "at 09:00 on Monday through Friday"),
    ],
)
def test_common_expressions_in_words(expression: str, words: str) -> None:
    assert cron_words(expression) == words


@pytest.mark.parametrize(
    "expression",
    [
        "0 0 L * *",  # last day of the month
        "0 0 15W * *",  # nearest weekday
        "0 0 * * 5#3",  # third Friday
        "0 0 */2 * *",  # a step over days
        "0 0 * * */2",
        "*/5 * 9 * * *",  # every 5 seconds, but only at 9 o'clock
        "0 0 * * 1-5/2",  # a step over a range
        "0,10,20,30,40,50 1,2 * * *",  # twelve fixed times
        "0 9/2 * * *",
        "61 * * * *",  # out of range
        "a b c d e",
        "* * *",  # too few fields
        "0 0 0 0 0 0 0",  # too many
        "0 0 * * 0-7",
    ],
)
def test_what_words_cannot_say_stays_the_expression(expression: str) -> None:
    assert cron_words(expression) == " ".join(expression.split())


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (1, "every second"),
        (30, "every 30 seconds"),
        (90, "every 90 seconds"),
        (60, "every minute"),
        (300.0, "every 5 minutes"),
        (3600, "every hour"),
        (5400, "every 90 minutes"),
        (7200, "every 2 hours"),
        (86400, "every day"),
        (172800, "every 2 days"),
        (604800, "every week"),
        (1.5, "every 1.5 seconds"),
    ],
)
def test_intervals_in_words(seconds: float, words: str) -> None:
    assert interval_words(seconds) == words
