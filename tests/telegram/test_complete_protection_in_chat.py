"""The "Protection incomplete" message's Protect button, end to end: the application against the
simulator, a Telegram user in the Bot API emulator. A buy's protection stands as a stop-loss only
(the exchange refused the native OCO, then the take-profit because the untriggered stop reserves
the coins); Protect previews completing it, and Confirm replaces the lone stop-loss once."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from aiogram.utils.i18n import I18n

from bot.db.models import OcoGroupRecord
from bot.domain.actions import ActionKind, ActionPreview, ActionResult, CompleteDetails, Outcome
from bot.domain.oco import GroupState
from bot.domain.orders import OrderType, Side
from bot.telegram.views.actions import render_preview, render_result
from bot.telegram.wording import Reader
from tests.telegram.harness import OWNER, assert_valid_html, button_data, hand_buy_filled, plain, running_app

D = Decimal
NB = "\u00a0"
I18N = I18n(path=Path(__file__).resolve().parents[2] / "locales", default_locale="es", domain="messages")
WORDS = {
    "en": {"title": "Complete the protection: BTC", "now": f"a stop-loss at 97,000.00{NB}USDT for 0.01{NB}BTC",
           "take": f"103,000.00{NB}USDT", "risk": "For a moment", "confirm": "Confirm",
           "done": "Protection completed", "again": "Already done"},
    "es": {"title": "Completar la protección: BTC", "now": f"un stop-loss a 97.000,00{NB}USDT para 0,01{NB}BTC",
           "take": f"103.000,00{NB}USDT", "risk": "Durante un momento", "confirm": "Confirmar",
           "done": "Protección completada", "again": "Ya estaba hecho"},
}


@pytest.mark.parametrize("language", ["en", "es"])
async def test_protect_on_an_incomplete_protection_completes_it_once(db: str, aiohttp_server, monkeypatch,
                                                                    language: str) -> None:
    words = WORDS[language]
    async with running_app(db, aiohttp_server, monkeypatch, balances={"USDT": D(100000)}, native_oco=False) as world:
        world.exchange.sim.engine.trigger_orders_lock = True          # untriggered stops reserve the coins
        await hand_buy_filled(world)
        await world.emulator.wait_for_call(
            "sendMessage", where=lambda c: c.params.get("chat_id") == str(OWNER)
            and "Protection incomplete" in c.params["text"])
        chat = world.chat(language=language)
        notice = next(m for m in chat.messages() if "Protection incomplete" in m["text"])

        world.exchange.sim.engine.trigger_orders_lock = False         # now the two linked legs can stand
        preview = await (await chat.press(notice, "🛡")).new_message()
        assert_valid_html(preview["text"])
        text = plain(preview["text"])
        for part in (words["title"], words["now"], words["take"], words["risk"]):
            assert part in text, part

        confirm = button_data(preview, words["confirm"])
        edit = await (await chat.press_data(preview["message_id"], confirm)).edited()
        assert words["done"] in plain(edit.params["text"])
        again = await chat.press_data(preview["message_id"], confirm)         # a second press, or another device
        assert words["again"] in plain((await again.edited()).params["text"])

        open_sells = sorted((o.order_type, o.quantity) for o in world.exchange.orders.values()
                            if o.side is Side.SELL and o.status.is_open)
        assert open_sells == [(OrderType.STOP_LOSS, D("0.01")), (OrderType.TAKE_PROFIT_LIMIT, D("0.01"))]
        states = sorted(g.state for g in await OcoGroupRecord.all())
        assert states == [GroupState.ACTIVE.value, GroupState.CANCELED.value]


COMPLETE = CompleteDetails(symbol="BTC_USDT", base="BTC", quote="USDT", group_id="g-lone", stop_loss_client_oid="cb-sl",
                           stop_loss_order_id="7001", quantity=D("0.01"), stop_loss=D(97000), take_profit=D(103000),
                           entry_price=D(100000), market_price=D(100000), native_oco=False)
ACTION = ActionPreview("a-1", ActionKind.COMPLETE, "live", OWNER, datetime(2026, 12, 5, 8, 5, tzinfo=UTC),
                       complete=COMPLETE)


@pytest.mark.parametrize(("locale", "expected"), [
    ("en", ["🚨 BTC is not protected · 🔴 LIVE", "the lone stop-loss was canceled, but the new protection was not "
            "placed (the stop-loss was refused: not enough free balance (306)): 0.01\u00a0BTC is UNPROTECTED now; "
            "/orders offers Protect"]),
    ("es", ["🚨 BTC no está protegido · 🔴 REAL", "el stop-loss solo se canceló, pero la nueva protección no se colocó "
            "(el stop-loss fue rechazado: saldo libre insuficiente (306)): 0,01\u00a0BTC queda SIN PROTECCIÓN ahora; "
            "/orders ofrece Proteger"]),
])
def test_a_placement_refused_after_the_cancel_is_one_message_saying_the_coins_are_unprotected(
        locale: str, expected: list[str]) -> None:
    failed = ActionResult(Outcome.FAILED, ACTION, reason_key="completion_not_placed", reason_args=(
        ("exchange", "not enough free balance"), ("code", "306"), ("why_key", "stop_loss_refused"),
        ("unprotected", "0.01"), ("coin", "BTC")))
    text = render_result(failed, Reader(I18N, locale))
    assert_valid_html(text)
    for part in expected:
        assert part in plain(text), plain(text)


def test_the_preview_says_what_stands_what_will_be_done_and_the_moment_unprotected() -> None:
    text, _keyboard = render_preview(ACTION, Reader(I18N, "en"))
    assert_valid_html(text)
    for part in ("Complete the protection: BTC", "a stop-loss at 97,000.00\u00a0USDT for 0.01\u00a0BTC (#7001), "
                 "no take-profit", "cancel that stop-loss, then place the full protection", "at the same prices",
                 "refused the native OCO the last time", "between the cancel and the new orders"):
        assert part in plain(text), part
