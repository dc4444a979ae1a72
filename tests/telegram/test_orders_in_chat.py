"""/orders, /portfolio, /start and /help, and the Protect / Cancel buttons with their confirmation,
end to end: the application against the simulator, a Telegram user in the Bot API emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal

import pytest

from bot.db.models import OcoGroupRecord
from bot.domain.oco import GroupState
from bot.domain.orders import OrderStatus, OrderType, Side
from bot.exchange.base import OrderRequest
from bot.telegram.commands import COMMANDS
from tests.telegram.harness import (
    PARTNER,
    STRANGER,
    World,
    account_with_everything,
    assert_valid_html,
    button_data,
    buttons,
    plain,
    running_app,
)

D = Decimal
NB = "\u00a0"


@pytest.fixture
async def world(db: str, aiohttp_server, monkeypatch) -> AsyncIterator[World]:
    async with running_app(db, aiohttp_server, monkeypatch) as world:
        await account_with_everything(world)
        yield world


@pytest.mark.parametrize(("language", "expected"), [
    ("en", ["Open orders", "OCO groups", "Orders outside groups", "Unprotected positions", f"101,000.00{NB}USDT",
            f"97,000.00{NB}USDT", f"103,000.00{NB}USDT", f"+10.00{NB}USDT", f"0.5{NB}BTC", f"50,000.00{NB}USDT"]),
    ("es", ["Órdenes abiertas", "Grupos OCO", "Órdenes fuera de grupos", "Posiciones sin protección",
            f"101.000,00{NB}USDT", f"97.000,00{NB}USDT", f"+10,00{NB}USDT", f"0,5{NB}BTC"]),
])
async def test_orders_shows_groups_loose_orders_and_unprotected_positions(world: World, language: str,
                                                                          expected: list[str]) -> None:
    chat = world.chat(language=language)
    message = await chat.send("/orders")
    assert_valid_html(message["text"])
    text = plain(message["text"])
    for part in expected:
        assert part in text, part
    labels = [t for t, _ in buttons(message)]
    assert any("1 ·" in t for t in labels) and any("BTC" in t for t in labels)      # cancel group 1, protect BTC
    assert any("🔄" in t for t in labels)
    assert "LIVE" in text or "REAL" in text.upper()                                  # the simulator is live mode


WORDS = {
    "en": {"protect": "Protect BTC", "confirm": "Confirm", "protected": "Protected", "again": "Already done",
           "around": "current price", "real": "Real orders", "minutes": "5 minutes", "native": "native OCO",
           "cancel_group": "1 · Cancel group", "cancel_title": "Cancel protection",
           "unprotected": "will be unprotected", "canceled": "Canceled", "live": "LIVE"},
    "es": {"protect": "Proteger BTC", "confirm": "Confirmar", "protected": "Protegido", "again": "Ya estaba hecho",
           "around": "precio actual", "real": "Órdenes reales", "minutes": "5 minutos", "native": "OCO nativa",
           "cancel_group": "1 · Cancelar grupo", "cancel_title": "Cancelar protección",
           "unprotected": "quedará sin protección", "canceled": "Cancelado", "live": "REAL"},
}


@pytest.mark.parametrize("language", ["en", "es"])
async def test_protect_from_orders_previews_the_exact_order_and_confirm_places_it_once(world: World,
                                                                                     language: str) -> None:
    words = WORDS[language]
    chat = world.chat(language=language)
    listing = await chat.send("/orders")
    pressed = await chat.press(listing, words["protect"])
    preview = await pressed.new_message()
    assert_valid_html(preview["text"])
    text = plain(preview["text"])
    number = {"en": ("97,970.00", "104,030.00"), "es": ("97.970,00", "104.030,00")}[language]
    for part in (words["protect"], f"0{'.' if language == 'en' else ','}5{NB}BTC", "BTC_USDT",
                 f"{number[0]}{NB}USDT", f"{number[1]}{NB}USDT", words["around"], words["live"], words["real"],
                 words["minutes"], words["native"]):
        assert part in text, part
    assert "paper" not in text.lower()
    assert any(words["live"] in t for t, _ in buttons(preview))                   # Confirm · LIVE

    confirm = button_data(preview, words["confirm"])
    confirmed = await chat.press_data(preview["message_id"], confirm)
    edit = await confirmed.edited()
    assert words["protected"] in plain(edit.params["text"])
    # One story: the other allowed user is told the protection was placed; the one who confirmed it
    # reads it in the answer above, not a second time in a notice of its own.
    await world.emulator.wait_for_call("sendMessage", where=lambda c: str(c.params.get("chat_id")) == str(PARTNER)
                                       and any(p in str(c.params.get("text")) for p in ("97,970.00", "97.970,00")))
    assert world.app.telegram is not None and await world.app.telegram.notifier.queue.drained(timeout=10)
    told = [plain(str(m.get("text"))) for m in chat.messages()]
    placed = [t for t in told if "Protection placed" in t or "Protección colocada" in t]
    assert len(placed) == 1 and not any(p in placed[0] for p in ("97,970.00", "97.970,00")), placed  # the buy's
    groups = await OcoGroupRecord.filter(entry_exchange_order_id__isnull=True)
    assert len(groups) == 1 and groups[0].state == GroupState.ACTIVE

    again = await chat.press_data(preview["message_id"], confirm)          # a second press, or another device
    assert words["again"] in plain((await again.edited()).params["text"])
    assert await OcoGroupRecord.filter(entry_exchange_order_id__isnull=True).count() == 1
    open_sells = [o for o in world.exchange.orders.values() if o.side is Side.SELL and o.status.is_open]
    assert len(open_sells) == 4                                      # the first group's 2 legs, and these 2


async def test_an_expired_confirmation_says_so_and_does_nothing(world: World) -> None:
    chat = world.chat(language="es")
    listing = await chat.send("/orders")
    preview = await (await chat.press(listing, "BTC")).new_message()
    actions = world.app.services.actions
    real_clock = actions.clock
    actions.clock = lambda: real_clock() + timedelta(minutes=6)
    edit = await (await chat.press(preview, "Confirmar")).edited()
    assert "caducó" in plain(edit.params["text"])
    assert await OcoGroupRecord.filter(entry_exchange_order_id__isnull=True).count() == 0


async def test_a_forged_confirm_button_is_answered_and_does_nothing(world: World) -> None:
    """An id longer than any action's once made the lookup itself fail ("Something went wrong")."""
    chat = world.chat(language="en")
    listing = await chat.send("/orders")
    pressed = await chat.press_data(listing["message_id"], "act:confirm:a-" + "f" * 40)
    assert "no longer exists: nothing was done" in pressed.answer.params["text"]     # not "went wrong"
    assert await OcoGroupRecord.filter(entry_exchange_order_id__isnull=True).count() == 0


@pytest.mark.parametrize("language", ["en", "es"])
async def test_cancel_a_group_from_its_button_after_confirming(world: World, language: str) -> None:
    words = WORDS[language]
    chat = world.chat(language=language)
    listing = await chat.send("/orders")
    preview = await (await chat.press(listing, words["cancel_group"])).new_message()
    text = plain(preview["text"])
    assert words["cancel_title"] in text and words["unprotected"] in text and "stop-loss" in text
    edit = await (await chat.press(preview, words["confirm"])).edited()
    assert words["canceled"] in plain(edit.params["text"])
    legs = [o for o in world.exchange.orders.values() if o.side is Side.SELL]
    assert legs and all(o.status is OrderStatus.CANCELED for o in legs)


async def test_a_group_whose_take_profit_filled_before_the_confirm_is_not_told_canceled(world: World) -> None:
    """The list had ended: "Canceled" (and "BTC is unprotected now") would both be untrue."""
    chat = world.chat(language="en")
    listing = await chat.send("/orders")
    preview = await (await chat.press(listing, "1 · Cancel group")).new_message()
    world.exchange.set_price("BTC_USDT", D(103500))                  # the take-profit fills meanwhile
    filled = [o for o in world.exchange.orders.values() if o.side is Side.SELL and o.status is OrderStatus.FILLED]
    assert len(filled) == 1
    take_profit = filled[0]
    text = plain((await (await chat.press(preview, "Confirm")).edited()).params["text"])
    assert text.startswith("ℹ️ Nothing left to cancel") and "Canceled" not in text, text
    assert f"Filled before the cancel arrived: #{take_profit.order_id}" in text
    assert "unprotected now" not in text


async def test_cancel_an_order_outside_groups(world: World) -> None:
    chat = world.chat(language="es")
    listing = await chat.send("/orders")
    preview = await (await chat.press(listing, "2 · Cancelar orden")).new_message()
    assert "50.000,00" in plain(preview["text"])
    await (await chat.press(preview, "Confirmar")).edited()
    low = next(o for o in world.exchange.orders.values() if o.client_oid == "hand-low")
    assert low.status is OrderStatus.CANCELED


async def test_cancel_on_the_preview_sends_nothing(world: World) -> None:
    chat = world.chat()
    listing = await chat.send("/orders")
    preview = await (await chat.press(listing, "2 · Cancel order")).new_message()
    edit = await (await chat.press(preview, "✖️ Cancel")).edited()
    assert "nothing was sent" in plain(edit.params["text"])
    low = next(o for o in world.exchange.orders.values() if o.client_oid == "hand-low")
    assert low.status.is_open


async def test_another_users_confirm_button_does_nothing(world: World) -> None:
    owner = world.chat()
    listing = await owner.send("/orders")
    preview = await (await owner.press(listing, "Protect BTC")).new_message()
    partner = world.chat(PARTNER)
    pressed = await partner.press_data(preview["message_id"], button_data(preview, "Confirm"))
    assert pressed.alert is not None and "not yours" in pressed.alert
    assert pressed.sent_nothing()
    assert await OcoGroupRecord.filter(entry_exchange_order_id__isnull=True).count() == 0


async def test_pages_and_refresh_edit_the_message_in_place(db: str, aiohttp_server, monkeypatch) -> None:
    async with running_app(db, aiohttp_server, monkeypatch, balances={"USDT": D(1_000_000)}) as world:
        await world.sync()
        for i in range(20):
            await world.exchange.create_order(OrderRequest(
                symbol="BTC_USDT", side=Side.BUY, order_type=OrderType.LIMIT, client_oid=f"low-{i}",
                quantity=D("0.001"), price=D(50000 + i)))
        await world.sync()
        chat = world.chat()
        listing = await chat.send("/orders")
        assert "Page 1 of 3" in plain(listing["text"])
        edit = await (await chat.press(listing, "▶️")).edited()
        assert "Page 2 of 3" in plain(edit.params["text"]) and int(edit.params["message_id"]) == listing["message_id"]
        page_two = chat.message(listing["message_id"])
        assert "9. BTC_USDT" in plain(page_two["text"])
        refreshed = await chat.press(page_two, "Refresh")
        assert refreshed.alert == "Already up to date" or "Page 2 of 3" in plain(
            (await refreshed.edited()).params["text"])


@pytest.mark.parametrize(("language", "total", "unprotected"), [
    ("en", f"Total: 150,507.50{NB}USD", f"Unprotected: 50,500.00{NB}USD"),
    ("es", f"Total: 150.507,50{NB}USD", f"Sin protección: 50.500,00{NB}USD"),
])
async def test_portfolio_shows_balances_total_and_unprotected_value(world: World, language: str, total: str,
                                                                    unprotected: str) -> None:
    message = await world.chat(language=language).send("/portfolio")
    assert_valid_html(message["text"])
    text = plain(message["text"])
    assert total in text and unprotected in text, text
    assert "BTC" in text and "USDT" in text


@pytest.mark.parametrize("language", ["es", "en"])
async def test_start_is_a_menu_with_a_button_for_every_command(world: World, language: str) -> None:
    chat = world.chat(language=language)
    menu = await chat.send("/start")
    assert [d for _, d in buttons(menu)] == [f"menu:{c.name}" for c in COMMANDS if c.name != "start"]
    orders = await (await chat.press(menu, "📋")).new_message()
    assert "BTC_USDT" in plain(orders["text"])
    portfolio = await (await chat.press(menu, "💼")).new_message()
    assert "BTC" in plain(portfolio["text"])
    for label in ("📈", "👀"):                      # other features' commands answer from the menu too
        assert (await (await chat.press(menu, label)).new_message())["text"]
    help_text = plain((await (await chat.press(menu, "❓")).new_message())["text"])
    assert all(f"/{c.name}" in help_text for c in COMMANDS)


async def test_commands_are_published_in_both_languages(world: World) -> None:
    for language, description in (("es", "Órdenes abiertas"), ("en", "Open orders")):
        commands = {c["command"]: c["description"] for c in world.emulator.commands[language]}
        assert set(commands) == {c.name for c in COMMANDS}
        assert commands["orders"].startswith(description)


STRANGER_PATHS = ["/start", "/help", "/orders", "/portfolio"]
STRANGER_BUTTONS = ["menu:orders", "menu:portfolio", "menu:help", "ordp:page:1", "ordp:refresh:0", "pfp:refresh:0",
                    "protect:BTC:", "cxg:g-1", "cxo:123", "act:confirm:a-00", "act:dismiss:a-00"]


@pytest.mark.parametrize("language", ["es", "en"])
async def test_a_stranger_gets_one_refusal_on_every_command_and_button(world: World, language: str) -> None:
    stranger = world.chat(STRANGER, language=language)
    refusal = "Lo siento, este bot es privado." if language == "es" else "Sorry, this is a private bot."
    for command in STRANGER_PATHS:
        message = await stranger.send(command)
        assert message["text"] == refusal and "reply_markup" not in message
    for data in STRANGER_BUTTONS:
        pressed = await stranger.press_data(1, data)
        assert pressed.alert == refusal and pressed.sent_nothing(), data
    assert len(stranger.messages()) == len(STRANGER_PATHS)
    assert await OcoGroupRecord.filter(entry_exchange_order_id__isnull=True).count() == 0
