"""Which periods a cron schedule can repeat exactly: the rule behind the interval settings.

A cron field counts within its unit (seconds of a minute, minutes of an hour, hours of a day), so
`*/n` repeats evenly only when n divides that unit: 7 s would fire at :00, :07 … :56 and again at
:00, four seconds later.
"""

from __future__ import annotations

# Every valid period from 1 s to a day, for messages and documentation.
UNITS = ((1, 60), (60, 60), (3600, 24))     # (unit in seconds, how many make the next unit)


def cron_period(seconds: int) -> tuple[int, int] | None:
    """(unit in seconds, count) such that the period is `count` units and `count` divides the next
    unit up; None when no cron field repeats it evenly."""
    for unit, per_next in UNITS:
        if seconds % unit == 0 and 0 < seconds // unit < per_next and per_next % (seconds // unit) == 0:
            return unit, seconds // unit
    if seconds == 86_400:
        return 3600, 24
    return None


def valid_periods(minimum: int = 1) -> list[int]:
    """Every period `cron_period` accepts, from `minimum` seconds up to a day."""
    return [s for s in range(minimum, 86_401) if cron_period(s) is not None]
