"""When each person's daily report is due: at their report time in their time zone, or later the
same day if the bot was down then, as long as that time passed less than 6 hours ago."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

CATCH_UP = timedelta(hours=6)


def scheduled_at(day: date, timezone: str, at: str) -> datetime:
    """The report's moment on `day` (local), in UTC. A time the clocks skip (DST) is read as after the jump."""
    hours, minutes = (int(part) for part in at.split(":"))
    local = datetime.combine(day, time(hours, minutes), tzinfo=ZoneInfo(timezone))
    return local.astimezone(UTC)


def due_day(now: datetime, timezone: str, at: str, *, catch_up: timedelta = CATCH_UP,
            since: datetime | None = None) -> date | None:
    """The local day whose report is due at `now`, or None. Compared in UTC: wall clocks of one zone
    compare wrongly across a DST change. `since`: when the bot was installed; a report time before
    it was never missed (a first start at 10:00 sends no 08:00 report of a day it did not watch)."""
    now_utc = now.astimezone(UTC)
    today = now_utc.astimezone(ZoneInfo(timezone)).date()
    for day in (today, today - timedelta(days=1)):      # a late report time plus 6 h crosses midnight
        moment = scheduled_at(day, timezone, at)
        if moment <= now_utc < moment + catch_up:
            return day if since is None or moment >= since.astimezone(UTC) else None
    return None
