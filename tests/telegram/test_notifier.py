"""Events reach allowed users in their language, through the outbox, honouring retry_after."""

from __future__ import annotations

import asyncio
import string
from decimal import Decimal

import pytest

from bot.db.models import NotificationOutbox, User
from bot.domain.events import OcoLegDone, OrderFilled, OrderRejected, ProtectionFailed, ProtectionPlaced
from bot.domain.orders import Side
from bot.domain.reasons import TEMPLATES as REASON_TEMPLATES
from bot.domain.reasons import Reason
from bot.sandbox import BotApiEmulator
from bot.services.events import EventBus
from bot.settings import load_settings
from bot.telegram.notifier import Notifier, render_event, split_text
from bot.telegram.setup import build_bot, build_i18n

I18N = build_i18n("es")


def test_protection_failure_is_rendered_with_its_numbers_in_both_languages() -> None:
    event = ProtectionFailed(group_id="g-1", symbol="BTC_USDT", wanted_quantity=Decimal("0.5"),
                             protected_quantity=Decimal("0.2"), reason="0.3 BTC locked by order 42 <manual>")
    es, en = render_event(event, I18N, "es"), render_event(event, I18N, "en")
    assert es is not None and en is not None
    assert "Protección FALLIDA" in es and "Protection FAILED" in en
    for text in (es, en):
        assert "0.5" in text and "0.2" in text and "BTC_USDT" in text and "&lt;manual&gt;" in text


@pytest.mark.parametrize("key", sorted(REASON_TEMPLATES))
def test_every_failure_reason_reads_in_spanish_and_english_with_its_values(key: str) -> None:
    names = {name for _, name, _, _ in string.Formatter().parse(REASON_TEMPLATES[key]) if name}
    reason = Reason.of(key, **{name: f"<{name}>" for name in names} | {"code": "306"})
    event = ProtectionFailed(group_id="g", symbol="BTC_USDT", wanted_quantity=Decimal(1),
                             protected_quantity=Decimal(0), reason=reason.text, reason_key=reason.key,
                             reason_args=reason.args)
    es, en = render_event(event, I18N, "es"), render_event(event, I18N, "en")
    assert es is not None and en is not None and es != en
    for name in names - {"exchange"}:
        assert f"&lt;{name}&gt;" in es and f"&lt;{name}&gt;" in en
    if "exchange" in names:
        assert "saldo libre insuficiente (306)" in es and "not enough free balance (306)" in en


def test_a_rejection_code_is_worded_in_the_readers_language() -> None:
    event = OrderRejected(order_id="1", client_oid=None, symbol="BTC_USDT", side=Side.SELL,
                          quantity=Decimal("0.5"), reason="306")
    es, en = render_event(event, I18N, "es"), render_event(event, I18N, "en")
    assert es is not None and "saldo libre insuficiente (306)" in es
    assert en is not None and "not enough free balance (306)" in en


def test_closed_group_shows_its_profit_and_placed_protection_its_prices() -> None:
    done = OcoLegDone(group_id="g", symbol="BTC_USDT", leg="take_profit", quantity=Decimal("0.01"),
                      entry_price=Decimal(100000), exit_price=Decimal(103000), pnl=Decimal(30), sibling_canceled=True)
    placed = ProtectionPlaced(group_id="g", symbol="BTC_USDT", quantity=Decimal("0.01"), entry_price=Decimal(100000),
                              stop_loss_price=Decimal(97000), take_profit_price=Decimal(103000), native_oco=True)
    assert "G/P: 30" in (render_event(done, I18N, "es") or "") and "P/L: 30" in (render_event(done, I18N, "en") or "")
    assert "SL 97000 · TP 103000" in (render_event(placed, I18N, "en") or "")


def test_long_texts_are_split_at_the_limit() -> None:
    text = "\n".join(f"line {i} {'x' * 50}" for i in range(200))
    chunks = split_text(text)
    assert all(len(c) <= 4096 for c in chunks) and "\n".join(chunks) == text


async def test_events_reach_every_allowed_user_despite_a_retry_after(db: str, aiohttp_server, monkeypatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:TEST-NOTIFY")
    settings = load_settings()
    await User.create(telegram_id=2, language="en")
    emulator = BotApiEmulator()
    emulator.fail_next["sendMessage"] = (429, "Too Many Requests: retry after 1", 1)
    server = await aiohttp_server(emulator.make_app())
    bot = build_bot(settings, api_url=str(server.make_url("")))
    events = EventBus()
    notifier = Notifier(bot, events, I18N, [1, 2], "es")
    await notifier.start()
    try:
        await events.publish(OrderFilled(order_id="9", client_oid=None, symbol="ETH_USDT", side=Side.BUY,
                                         quantity=Decimal("0.5"), price=Decimal(3000), partial=False))
        first = await emulator.wait_for_call("sendMessage", count=3, timeout=10)
        second = await emulator.wait_for_call("sendMessage", count=3, timeout=10)
        assert first is second
        texts = {c.params["chat_id"]: c.params["text"] for c in emulator.calls_of("sendMessage")[1:]}
        assert "Orden ejecutada" in texts["1"] and "Order filled" in texts["2"]
        for _ in range(50):
            if await NotificationOutbox.filter(sent_at=None).count() == 0:
                break
            await asyncio.sleep(0.05)
        assert await NotificationOutbox.filter(sent_at=None).count() == 0
    finally:
        await notifier.close()
        await bot.session.close()
