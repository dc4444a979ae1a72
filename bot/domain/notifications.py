"""What a person chooses to hear: per kind of event, on / silent / off (User.notification_levels).

Kinds are what a user recognises, not event classes: a take-profit's fill and the stop-loss it
cancels are one "oco_closed" story. A kind missing from the stored choices is "on".
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class Kind(StrEnum):
    FILL = "fill"                  # orders filled, canceled or refused (outside OCO groups)
    PROTECTION = "protection"      # stop-loss / take-profit placed, or failed
    OCO_CLOSED = "oco_closed"      # a group closed by its take-profit or its stop-loss
    SIGNAL = "signal"              # BUY / SELL signals of Alert=YES coins and automatic orders
    DAILY_REPORT = "daily_report"


class Level(StrEnum):
    ON = "on"
    SILENT = "silent"              # delivered without a sound (disable_notification)
    OFF = "off"


KINDS: tuple[Kind, ...] = tuple(Kind)
_CYCLE = {Level.ON: Level.SILENT, Level.SILENT: Level.OFF, Level.OFF: Level.ON}


def level_of(levels: Mapping[str, str] | None, kind: Kind | str) -> Level:
    """The stored choice for `kind`; "on" when none (or an unreadable one) is stored."""
    try:
        return Level((levels or {}).get(str(kind), Level.ON))
    except ValueError:
        return Level.ON


def next_level(level: Level) -> Level:
    """The level a tap on its button moves to: on -> silent -> off -> on."""
    return _CYCLE[level]


def with_level(levels: Mapping[str, str] | None, kind: Kind, level: Level) -> dict[str, str]:
    """A copy of the stored choices with `kind` set (only known kinds are kept)."""
    known = {k.value: level_of(levels, k).value for k in KINDS if levels and k.value in levels}
    return {**known, kind.value: level.value}
