"""The notifier end to end: real services on the crypto.com simulator publish their events, the
notifier words them per user and level, and the real aiogram client delivers them to the Bot API
emulator. One story, one message."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from aiogram import Bot
from aiogram.utils.i18n import I18n

from bot.db.models import NotificationOutbox, User
from bot.db.repositories import OcoGroupRepository
from bot.devtools.telegram_harness import emulated_bot
from bot.domain.events import OrderCanceled, OrderFilled, ProtectionPlaced
from bot.domain.oco import GroupState
from bot.domain.orders import Side
from bot.exchange.simulator import SimulatorConfig
from bot.sandbox.emulator import BotApiEmulator
from bot.services.events import EventBus
from bot.telegram.callbacks import ProtectCallback
from bot.telegram.delivery import DeliveryQueue
from bot.telegram.notices import Notice
from bot.telegram.notifier import Notifier
from bot.telegram.setup import LOCALES
from tests.services.sim_exchange import simulated_exchange
from tests.services.sync_harness import bought

pytestmark = pytest.mark.storage     # the outbox, users and watchlist queries run on PostgreSQL too
D = Decimal
I18N = I18n(path=LOCALES, default_locale="es", domain="messages")


@contextlib.asynccontextmanager
async def notifier_for(events: EventBus, users: list[int], *, emulator: BotApiEmulator | None = None,
                       start: bool = True, mode: str = "live") -> AsyncIterator[tuple[Notifier, BotApiEmulator]]:
    emulator = emulator or BotApiEmulator()
    async with emulated_bot(emulator) as bot:
        notifier = Notifier(bot, events, I18N, users, "es", groups=OcoGroupRepository(mode),
                            queue=fast_queue(bot))
        if start:
            await notifier.start()
        try:
            yield notifier, emulator
        finally:
            await notifier.close()


def fast_queue(bot: Bot) -> DeliveryQueue:
    return DeliveryQueue(bot, per_chat_interval=0.05, global_per_second=100)


async def stories() -> list[dict[str, Any]]:
    """What people were told, one outbox row per message, oldest first."""
    return [row.payload for row in await NotificationOutbox.all().order_by("id")]


def sent_texts(emulator: BotApiEmulator, chat: int) -> str:
    return "\n\n".join(c.params["text"] for c in emulator.calls_of("sendMessage") if c.params["chat_id"] == str(chat))


@pytest.mark.parametrize("native", [True, False], ids=["native_oco", "two_linked_orders"])
async def test_a_take_profit_fill_is_one_message_with_the_group_closed_and_its_result(db: str, native: bool) -> None:
    async with simulated_exchange({"USDT": D(100000)}, native_oco=native) as exchange:
        h = await bought(exchange, "0.01")
        async with notifier_for(h.events, [1]) as (notifier, emulator):
            await h.sync.run_cycle()                          # the legs are mirrored
            before = len(await stories())
            exchange.set_price("BTC_USDT", D(103000))          # the take-profit fills
            await h.sync.run_cycle()
            await h.sync.run_cycle()                          # the stop-loss's cancel is mirrored too
            assert await notifier.queue.drained(timeout=10)
        told = (await stories())[before:]
        assert [row["kind"] for row in told] == ["oco_closed"]
        text = told[0]["text"].replace("\u00a0", " ")
        assert "Take-profit ejecutado: grupo de BTC_USDT cerrado" in text
        assert "El stop-loss se canceló." in text
        assert ("Resultado: +24,92 USDT" if native else "Resultado: +22,35 USDT") in text
        assert told[0]["text"] in sent_texts(emulator, 1)
        assert await NotificationOutbox.filter(sent_at=None).count() == 0


async def test_linked_legs_with_the_take_profit_refused_say_exactly_what_stands(db: str) -> None:
    def stops_reserve(config: SimulatorConfig) -> None:
        config.trigger_orders_lock = True

    async with simulated_exchange({"USDT": D(100000)}, native_oco=False, configure=stops_reserve) as exchange:
        events = EventBus()
        await User.create(telegram_id=2, language="en")
        async with notifier_for(events, [2]) as (notifier, emulator):
            h = await bought(exchange, "0.01", events=events)
            await h.sync.run_cycle()
            assert await notifier.queue.drained(timeout=10)
    protection = [row for row in await stories() if row["kind"] == "protection"]
    assert len(protection) == 1
    text = protection[0]["text"].replace("\u00a0", " ")
    assert "Protection incomplete: BTC_USDT" in text
    assert "On the exchange now: a stop-loss at 97,000.00 USDT for 0.01 BTC" in text
    assert "Take-profit at 103,000.00 USDT refused: not enough free balance (306)" in text
    assert "FAILED" not in sent_texts(emulator, 2) and "Protection placed" not in sent_texts(emulator, 2)
    [[button]] = protection[0]["buttons"]
    assert ProtectCallback.unpack(button["callback_data"]).symbol == "BTC_USDT"
    sent = [c for c in emulator.calls_of("sendMessage") if "Protection incomplete" in c.params["text"]]
    assert "Protect" in sent[0].params["reply_markup"]


async def test_each_user_gets_their_language_and_level(db: str) -> None:
    await User.create(telegram_id=1, language="es", notification_levels={"fill": "off", "protection": "silent"})
    await User.create(telegram_id=2, language="en")
    events = EventBus()
    async with notifier_for(events, [1, 2]) as (notifier, emulator):
        await events.publish(OrderFilled(order_id="9", client_oid=None, symbol="ETH_USDT", side=Side.BUY,
                                         quantity=D("0.5"), price=D(3000), partial=False))
        await events.publish(ProtectionPlaced(group_id="g-1", symbol="ETH_USDT", quantity=D("0.5"),
                                              entry_price=D(3000), stop_loss_price=D(2910),
                                              take_profit_price=D(3090), native_oco=True))
        assert await notifier.queue.drained(timeout=10)
    calls = emulator.calls_of("sendMessage")
    to_one = [c for c in calls if c.params["chat_id"] == "1"]
    assert "Orden ejecutada" not in sent_texts(emulator, 1)                  # fills: off
    assert "Protección colocada: ETH_USDT" in sent_texts(emulator, 1)
    assert all(c.params.get("disable_notification") == "true" for c in to_one)   # protection: silent
    assert "Order filled: ETH_USDT" in sent_texts(emulator, 2) and "Protection placed" in sent_texts(emulator, 2)
    assert all(c.params.get("disable_notification") != "true" for c in calls if c.params["chat_id"] == "2")


async def test_messages_stored_before_a_crash_are_sent_at_the_next_start(db: str) -> None:
    events = EventBus()
    async with notifier_for(events, [1], start=False):          # the process dies before sending
        await events.publish(OrderFilled(order_id="9", client_oid=None, symbol="ETH_USDT", side=Side.BUY,
                                         quantity=D("0.5"), price=D(3000), partial=False))
    assert await NotificationOutbox.filter(sent_at=None).count() == 1
    emulator = BotApiEmulator()
    emulator.fail_next["sendMessage"] = (429, "Too Many Requests: retry after 1", 1)
    async with notifier_for(EventBus(), [1], emulator=emulator) as (notifier, _):
        assert await notifier.queue.drained(timeout=10)
    assert "Orden ejecutada: ETH_USDT" in sent_texts(emulator, 1)
    assert await NotificationOutbox.filter(sent_at=None).count() == 0
    assert len(emulator.calls_of("sendMessage", outcome="injected")) == 1


async def test_a_protection_leg_cancel_is_news_only_while_its_group_is_open(db: str) -> None:
    groups = OcoGroupRepository("live")
    common: dict[str, Any] = dict(mode="live", symbol="BTC_USDT", quantity=D("0.01"), entry_price=D(100000),
                                  stop_loss_price=D(97000), take_profit_price=D(103000))
    await groups.create("g-open", state=GroupState.ACTIVE.value, stop_loss_client_oid="sl-open",
                        take_profit_client_oid="tp-open", **{k: v for k, v in common.items() if k != "mode"})
    await groups.create("g-closed", state=GroupState.CLOSED.value, stop_loss_client_oid="sl-closed",
                        take_profit_client_oid="tp-closed", **{k: v for k, v in common.items() if k != "mode"})
    events = EventBus()

    def canceled(client_oid: str) -> OrderCanceled:
        return OrderCanceled(order_id=client_oid, client_oid=client_oid, symbol="BTC_USDT", side=Side.SELL,
                             quantity=D("0.01"), price=D(97000), role="stop_loss", mode="live")

    async with notifier_for(events, [1]) as (notifier, _emulator):
        await events.publish(canceled("sl-closed"))     # the take-profit filled: told by the closing message
        await events.publish(canceled("sl-old"))        # replaced by a smaller stop-loss: not a group leg now
        await events.publish(canceled("sl-open"))       # gone while the group is open: the reader must know
        assert await notifier.queue.drained(timeout=10)
    told = await stories()
    assert len(told) == 1 and "Stop-loss cancelado: BTC_USDT" in told[0]["text"]
    assert told[0]["buttons"][0][0]["callback_data"] == ProtectCallback(symbol="BTC_USDT").pack()


async def test_other_features_deliver_through_the_same_levels_and_outbox(db: str) -> None:
    await User.create(telegram_id=3, notification_levels={"daily_report": "off"})
    events = EventBus()
    async with notifier_for(events, [3, 4]) as (notifier, emulator):
        from bot.domain.notifications import Kind

        report = Notice(Kind.DAILY_REPORT, "📋 <b>Report</b>")
        assert not await notifier.deliver(3, report)
        assert await notifier.deliver(4, report)
        assert await notifier.queue.drained(timeout=10)
    assert [c.params["chat_id"] for c in emulator.calls_of("sendMessage")] == ["4"]
