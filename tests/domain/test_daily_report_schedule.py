"""When a daily report is due: from its local time until 6 hours later, in the reader's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.domain.daily_report import due_day, scheduled_at


@pytest.mark.parametrize(("now", "zone", "at", "expected"), [
    (datetime(2026, 12, 7, 7, 0, tzinfo=UTC), "Europe/Madrid", "08:00", date(2026, 12, 7)),     # 08:00 CET
    (datetime(2026, 12, 7, 6, 59, tzinfo=UTC), "Europe/Madrid", "08:00", None),                # a minute early
    (datetime(2026, 12, 7, 12, 59, tzinfo=UTC), "Europe/Madrid", "08:00", date(2026, 12, 7)),  # 5 h 59 late
    (datetime(2026, 12, 7, 13, 0, tzinfo=UTC), "Europe/Madrid", "08:00", None),                # 6 h late
    (datetime(2026, 12, 7, 13, 5, tzinfo=UTC), "America/New_York", "08:00", date(2026, 12, 7)),
    (datetime(2026, 7, 7, 6, 0, tzinfo=UTC), "Europe/Madrid", "08:00", date(2026, 7, 7)),      # summer: CEST
    # 23:30 in Madrid plus 6 h runs into the next day: still the evening's report.
    (datetime(2026, 12, 8, 1, 0, tzinfo=UTC), "Europe/Madrid", "23:30", date(2026, 12, 7)),
    # Tokyo's morning is the previous evening in UTC.
    (datetime(2026, 12, 6, 23, 10, tzinfo=UTC), "Asia/Tokyo", "08:00", date(2026, 12, 7)),
])
def test_a_report_is_due_from_its_local_time_for_six_hours(now: datetime, zone: str, at: str,
                                                           expected: date | None) -> None:
    assert due_day(now, zone, at) == expected


def test_a_report_time_before_the_bot_was_installed_was_never_missed() -> None:
    installed = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)                   # 10:30 in Madrid, a first start
    assert due_day(installed, "Europe/Madrid", "08:00", since=installed) is None
    assert due_day(installed, "Europe/Madrid", "11:00", since=installed) is None          # not yet
    assert due_day(datetime(2026, 12, 7, 10, 0, tzinfo=UTC), "Europe/Madrid", "11:00",
                   since=installed) == date(2026, 12, 7)                    # today's later time: due
    assert due_day(datetime(2026, 12, 8, 9, 30, tzinfo=UTC), "Europe/Madrid", "08:00",
                   since=installed) == date(2026, 12, 8)                    # the next day: missed, caught up


def test_the_moment_follows_daylight_saving_time() -> None:
    winter = scheduled_at(date(2026, 3, 28), "Europe/Madrid", "08:00")
    summer = scheduled_at(date(2026, 3, 29), "Europe/Madrid", "08:00")     # clocks went forward that night
    assert (winter.hour, summer.hour) == (7, 6)
    assert summer - winter == timedelta(hours=23)
