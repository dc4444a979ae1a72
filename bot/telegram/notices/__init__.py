"""What people read when something happens: one domain event -> one message (HTML text, its kind
for the reader's notification levels, and its buttons), in the reader's language.

Rendering is pure: no I/O, no clock. Which events are worth a message at all (a protection leg's
own fill or cancel is part of its group's story) is decided here too, except where it needs the
database (the notifier asks whether a canceled leg's group is still open).
"""

from __future__ import annotations

from typing import Any

from bot.domain.events import (
    AutoOrderPlaced,
    AutoOrderRefused,
    Event,
    ExchangeCircuitChanged,
    OcoLegDone,
    OrderCanceled,
    OrderFilled,
    OrderRejected,
    ProtectionFailed,
    ProtectionPlaced,
    SignalChanged,
)
from bot.telegram.notices.exchange import render_circuit
from bot.telegram.notices.model import Button, Notice
from bot.telegram.notices.orders import render_canceled, render_filled, render_rejected
from bot.telegram.notices.protection import render_closed, render_failed, render_placed
from bot.telegram.notices.signals import render_auto_placed, render_auto_refused, render_signal
from bot.telegram.wording import Reader

__all__ = ["EVENT_TYPES", "Button", "Notice", "Reader", "render_event"]

_RENDERERS: dict[type[Event], Any] = {
    OrderFilled: render_filled,
    OrderCanceled: render_canceled,
    OrderRejected: render_rejected,
    ProtectionPlaced: render_placed,
    ProtectionFailed: render_failed,
    OcoLegDone: render_closed,
    SignalChanged: render_signal,
    AutoOrderPlaced: render_auto_placed,
    AutoOrderRefused: render_auto_refused,
    ExchangeCircuitChanged: render_circuit,
}
EVENT_TYPES: tuple[type[Event], ...] = tuple(_RENDERERS)


def render_event(event: Event, reader: Reader) -> Notice | None:
    """The message for one event, or None for events that are part of another message's story."""
    renderer = _RENDERERS.get(type(event))
    return None if renderer is None else renderer(event, reader)
