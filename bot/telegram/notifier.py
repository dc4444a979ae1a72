"""Domain events -> messages for every allowed user, in their language, at their notification level.

For each event: is it worth a message (a protection leg's cancel is part of its group's story unless
the group is still open), then for each allowed user the message in their language, dropped when
its kind is "off" for them, sent without a sound when "silent". Every message is written to the
outbox before it is queued and marked sent once Telegram has it, so a crash in between loses
nothing: the next start sends what the outbox still holds. Sending itself is `DeliveryQueue`'s job
(flood limits, retry_after, merging, splitting).

Other features send through `deliver` (the daily report), so their messages share the same levels,
outbox and pacing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.utils.i18n import I18n

from bot.db.repositories import (
    NotificationOutbox,
    OcoGroupRepository,
    OutboxRepository,
    PendingActionRepository,
    UserRepository,
)
from bot.domain.events import Event, OrderCanceled, ProtectionFailed, ProtectionPlaced
from bot.domain.notifications import Level, level_of
from bot.domain.oco import GroupState
from bot.domain.orders import OrderRole
from bot.services.events import EventBus
from bot.telegram.delivery import DeliveryQueue, Outgoing
from bot.telegram.middlewares.language import pick_language
from bot.telegram.notices import EVENT_TYPES, Notice, Reader, render_event

log = logging.getLogger(__name__)
LEGS = (OrderRole.STOP_LOSS.value, OrderRole.TAKE_PROFIT.value)


@dataclass(frozen=True)
class Recipient:
    telegram_id: int
    reader: Reader
    levels: dict[str, str]


class Notifier:
    def __init__(self, bot: Bot, events: EventBus, i18n: I18n, allowed_users: Iterable[int],
                 default_language: str, *, default_timezone: str = "UTC", outbox: OutboxRepository | None = None,
                 users: UserRepository | None = None, groups: OcoGroupRepository | None = None,
                 queue: DeliveryQueue | None = None, actions: PendingActionRepository | None = None) -> None:
        self.bot = bot
        self.i18n = i18n
        self.allowed = tuple(allowed_users)
        self.default_language = default_language
        self.default_timezone = default_timezone
        self.outbox = outbox or OutboxRepository()
        self.users = users or UserRepository()
        self.groups = groups
        self.actions = actions or PendingActionRepository()
        self.queue = queue or DeliveryQueue(bot)
        self.queue.on_sent = self.outbox.mark_sent_many
        self.queue.on_failed = self.outbox.mark_attempt_failed
        self.queue.on_dropped = self.outbox.mark_given_up
        for event_type in EVENT_TYPES:
            events.subscribe(event_type, self.on_event)

    async def start(self) -> None:
        """Start sending, beginning with what the outbox still holds from before a restart."""
        for row in await self.outbox.pending():
            for item in _outgoing_of(row):
                self.queue.put(item)
        await self.queue.start()

    async def close(self) -> None:
        await self.queue.close()

    async def recipients(self) -> list[Recipient]:
        stored = await self.users.many(self.allowed)
        result = []
        for telegram_id in self.allowed:
            user = stored.get(telegram_id)
            locale = pick_language(user.language if user else None, None, self.default_language)
            reader = Reader(self.i18n, locale, (user.timezone if user else None) or self.default_timezone)
            result.append(Recipient(telegram_id, reader, dict(user.notification_levels or {}) if user else {}))
        return result

    async def on_event(self, event: Event) -> None:
        if not await self._worth_telling(event):
            return
        answered = await self._answered_by_their_action(event)
        messages = []
        for recipient in await self.recipients():
            if recipient.telegram_id == answered:
                continue
            notice = render_event(event, recipient.reader)
            if notice is not None:
                messages.append((recipient, notice))
        await self._send(messages, source=type(event).__name__)

    async def deliver(self, telegram_id: int, notice: Notice) -> bool:
        """Send one message (e.g. the daily report) through the same levels, outbox and pacing.
        False when the user turned its kind off."""
        stored = await self.users.many([telegram_id])
        user = stored.get(telegram_id)
        levels = dict(user.notification_levels or {}) if user else {}
        reader = Reader(self.i18n, self.default_language)
        return bool(await self._send([(Recipient(telegram_id, reader, levels), notice)], source=notice.kind.value))

    async def _send(self, messages: list[tuple[Recipient, Notice]], *, source: str) -> int:
        rows = []
        for recipient, notice in messages:
            level = level_of(recipient.levels, notice.kind)
            if level is Level.OFF:
                continue
            payload = {**notice.to_json(), "chat_id": recipient.telegram_id, "silent": level is Level.SILENT,
                       "source": source}
            rows.append((notice.kind.value, payload))
        for row in await self.outbox.add_many(rows):
            for item in _outgoing_of(row):
                self.queue.put(item)
        return len(rows)

    async def _worth_telling(self, event: Event) -> bool:
        """A protection leg's cancel is news only when its group is still open: otherwise the other
        leg filled (the group's closing message tells it) or the leg was replaced by a smaller one.
        A native OCO's legs are the exchange's business: it cancels one when the other fills."""
        if not isinstance(event, OrderCanceled) or event.role not in LEGS:
            return True
        if self.groups is None or not event.client_oid:
            return False
        found = await self.groups.for_leg_client_oid(event.client_oid)
        if found is None:
            return False
        group, _role = found
        return group.state == GroupState.ACTIVE.value and not group.native_list_id


    async def _answered_by_their_action(self, event: Event) -> int | None:
        """The user whose confirmed Protect placed this group (its id is the action's): the action's
        own answer tells them, one message instead of "Protection placed" and "Protected" together.
        Everyone else is told as usual; so is that user when the outcome has more to it than the
        answer says (only part of the quantity, or no take-profit)."""
        if isinstance(event, ProtectionPlaced):
            if event.problem is not None or not event.take_profit_placed or (
                    event.wanted_quantity is not None and event.wanted_quantity != event.quantity):
                return None
        elif not isinstance(event, ProtectionFailed):
            return None
        if not event.group_id:
            return None
        try:
            action = await self.actions.get(event.group_id)
        except Exception:       # telling someone twice is better than telling no one
            log.exception("could not look up the action behind group %s", event.group_id)
            return None
        return action.telegram_id if action is not None else None


def _outgoing_of(row: NotificationOutbox) -> list[Outgoing]:
    """The messages an outbox row holds: one (this notifier's rows), or one per user (older rows,
    {telegram id: text}); the row counts as sent with its last message."""
    payload: dict[str, Any] = row.payload or {}
    if "chat_id" in payload:
        notice = Notice.from_json(payload)
        return [Outgoing(int(payload["chat_id"]), notice.text, bool(payload.get("silent")), notice.buttons,
                         (row.id,))]
    items = [Outgoing(int(chat), text) for chat, text in payload.items() if isinstance(text, str)]
    if items:
        items[-1] = Outgoing(items[-1].chat_id, items[-1].text, outbox_ids=(row.id,))
    return items
