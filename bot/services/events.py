"""In-process event bus: services publish domain events, subscribers (notifier, sync, ...) react.

Events published while a lock is held are delivered after it is released (`held_while`): the
subscribers' work (the notifier writes its outbox) never sits between a fill and the sibling's
cancel, nor keeps the next order update waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextvars import ContextVar
from typing import Any

from bot.domain.events import Event

log = logging.getLogger(__name__)
Handler = Callable[[Event], Awaitable[None]]


class EventBus:
    def __init__(self) -> None:
        self._handlers: list[tuple[type[Event], Handler]] = []
        self.published: list[Event] = []     # recent events, for /healthz and tests
        self._keep = 200
        # Per task: another task publishing meanwhile is never held back. The owner is kept beside
        # the list because a task started inside the block inherits (a copy of) this context.
        self._held: ContextVar[tuple[asyncio.Task[Any] | None, list[Event]] | None] = ContextVar(
            f"held-events-{id(self)}", default=None)

    def subscribe(self, event_type: type[Event], handler: Handler) -> None:
        self._handlers.append((event_type, handler))

    async def publish(self, event: Event) -> None:
        held = self._held.get()
        if held is not None and held[0] is asyncio.current_task():
            held[1].append(event)
            return
        await self._deliver(event)

    async def publish_all(self, events: Iterable[Event]) -> None:
        for event in events:
            await self.publish(event)

    @contextlib.contextmanager
    def collecting(self) -> Iterator[list[Event]]:
        """Hold back what this task publishes inside the block; the caller publishes the list after."""
        held: list[Event] = []
        token = self._held.set((asyncio.current_task(), held))
        try:
            yield held
        finally:
            self._held.reset(token)

    @contextlib.asynccontextmanager
    async def held_while(self, lock: asyncio.Lock) -> AsyncIterator[None]:
        """Hold `lock`; what this task publishes meanwhile is delivered once the lock is released
        (also when the block fails: those changes are stored, and people must hear of them)."""
        held: list[Event] = []
        try:
            with self.collecting() as held:
                async with lock:
                    yield
        finally:
            await self.publish_all(held)

    async def _deliver(self, event: Event) -> None:
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
