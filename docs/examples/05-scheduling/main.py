"""Delayed and recurring jobs: enqueue_in, enqueue_at, an interval, a cron, and cancelling.

The NATS server keeps the schedules and publishes each job when it is due: there is no
scheduler process, only workers. Run one first (``naq worker scheduled -t tasks``), then
``python main.py``. Needs a NATS server 2.14 or newer (``naq server`` runs one).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time

from tasks import remind, tick

from naq_core import JobFailedError, JobNotFoundError, Queue, Schedule, ScheduleStatus

WAIT = 30  # seconds: every wait is bounded, so this script always ends


async def wait_for_firings(queue: Queue, schedule_id: str, count: int) -> Schedule:
    """Poll the schedule (a cheap read) until it fired ``count`` times, at most WAIT seconds."""
    deadline = time.monotonic() + WAIT
    schedule = await queue.get_schedule(schedule_id)
    while schedule.firings < count and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        schedule = await queue.get_schedule(schedule_id)
    return schedule


async def main() -> None:
    async with Queue("scheduled") as queue:
        # Once, after a delay (seconds or a timedelta) ...
        later = await queue.enqueue_in(1, remind, "ada")
        # ... or at a time (naive datetimes are UTC).
        at = await queue.enqueue_at(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2), remind, "grace")
        print(f"enqueue_in: job {later.job_id} is {(await queue.job_status(later.job_id)).value}")
        print(f"enqueue_in(1 s) -> {await queue.fetch_job_result(later, timeout=WAIT)}")
        print(f"enqueue_at(now + 2 s) -> {await queue.fetch_job_result(at, timeout=WAIT)}")

        # A delayed job cancelled before it is due never runs.
        never = await queue.enqueue_in(dt.timedelta(hours=1), remind, "nobody")
        await queue.cancel_scheduled_job(never.job_id)
        try:
            await queue.fetch_job_result(never, timeout=WAIT)
        except JobFailedError as exc:
            print(f"cancelled one-off: {exc.status}")

        # Every second, twice: `repeat` ends the schedule by itself.
        every = await queue.schedule(tick, "interval", interval=1, repeat=2, name="example-interval")
        every = await wait_for_firings(queue, every.schedule_id, 2)
        print(f"interval: fired {every.firings} times, now {every.status.value}")
        if every.last_job_id:  # each firing is a job of its own
            print(f"interval: last firing -> {await queue.fetch_job_result(every.last_job_id, timeout=WAIT)}")

        # A cron expression: 6 fields means seconds first, so this one fires every second
        # ("30 9 * * MON-FRI" with tz="Europe/Paris" is 9:30 Paris time on weekdays).
        cron = await queue.schedule(tick, "cron", cron="* * * * * *", name="example-cron")
        try:
            cron = await wait_for_firings(queue, cron.schedule_id, 2)
        finally:  # whatever happens, do not leave it firing every second
            await queue.cancel_scheduled_job(cron.schedule_id)
        print(f"cron: fired {'at least 2' if cron.firings >= 2 else cron.firings} times, then cancelled")
        try:
            await queue.get_schedule(cron.schedule_id)
        except JobNotFoundError:
            print("cron: the cancelled schedule is gone")
        active = [s for s in await queue.list_schedules() if s.status is ScheduleStatus.ACTIVE]
        print(f"active schedules left on this queue: {len(active)}")


if __name__ == "__main__":
    asyncio.run(main())
