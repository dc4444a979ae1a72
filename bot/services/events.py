"""In-process event bus: services publish domain events, subscribers (notifier, sync, ...) react."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.domain.events import Event

log = logging.getLogger(__name__)
Handler = Callable[[Event], Awaitable[None]]


class EventBus:
    def __init__(self) -> None:
        self._handlers: list[tuple[type[Event], Handler]] = []
        self.published: list[Event] = []     # recent events, for /healthz and tests
        self._keep = 200

    def subscribe(self, event_type: type[Event], handler: Handler) -> None:
        self._handlers.append((event_type, handler))

    async def publish(self, event: Event) -> None:
        self.published.append(event)
        del self.published[: -self._keep]
        for event_type, handler in list(self._handlers):
            if isinstance(event, event_type):
                try:
                    await handler(event)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("event handler %s failed for %s", getattr(handler, "__qualname__", handler),
                                  type(event).__name__)
