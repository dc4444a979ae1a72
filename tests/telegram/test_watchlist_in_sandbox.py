"""/watchlist through the real dispatcher and the Bot API emulator: list, card, toggles, the edit
conversation with bad input, adding (with suggestions) and removing, in both languages, and the
allow-list on every step."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from aiogram.fsm.storage.memory import MemoryStorage

from bot.db.models import WatchlistEntry
from bot.domain.input_rules import NumberField
from tests.telegram.market_harness import ALLOWED, STRANGER, MarketBot, market_bot, running_market_bot

__all__ = ["market_bot"]
NB = "\u00a0"


async def watch(*symbols: str, **columns: object) -> None:
    for symbol in symbols:
        await WatchlistEntry.create(symbol=symbol, **columns)


@pytest.mark.parametrize(("language", "title", "trade", "yes"), [("en", "Watchlist", "Trade", "YES"),
                                                                 ("es", "Lista de seguimiento", "Operar", "SÍ")])
async def test_watchlist_lists_every_coin_with_flags_amount_and_levels(market_bot: MarketBot, language: str,
                                                                        title: str, trade: str, yes: str) -> None:
    await watch("BTC_USDT", trade_enabled=True, amount_usd=Decimal("1234.5"))
    await watch("ETH_USDT")
    chat = market_bot.chat(language=language)
    shown = await chat.send("/watchlist")
    assert f"<b>{title}</b> (2)" in shown.text
    assert f"<b>BTC_USDT</b> · {trade} {yes}" in shown.text
    amount = f"1,234.50{NB}USD" if language == "en" else f"1.234,50{NB}USD"
    assert amount in shown.text and "SL 3" in shown.text
    assert [t for t, _ in shown.buttons][:2] == ["BTC_USDT", "ETH_USDT"]


async def test_a_flag_toggles_in_place(market_bot: MarketBot) -> None:
    await watch("BTC_USDT")
    chat = market_bot.chat()
    listing = await chat.send("/watchlist")
    card = await chat.press(listing, "BTC_USDT")
    assert card.kind == "edit" and card.message["message_id"] == listing.message["message_id"]
    assert "Trade: NO" in card.text
    toggled = await chat.press(card, "Trade")
    assert toggled.kind == "edit" and "Trade: YES" in toggled.text
    assert (await WatchlistEntry.get(symbol="BTC_USDT")).trade_enabled is True
    answered = market_bot.emulator.calls_of("answerCallbackQuery")[-1]
    assert answered.params.get("text") == "Trade: YES"


@pytest.mark.parametrize(("typed", "refusal"), [
    ("lots", "“lots” is not a number: send digits only, e.g. 150"),
    ("-5", "the value must be greater than 0"),
    ("0", "the value must be greater than 0"),
    ("1e9", "the value must be at most 1,000,000"),
    ("10.12345", "use at most 2 decimals"),
])
async def test_editing_the_amount_refuses_bad_input_and_keeps_asking(market_bot: MarketBot, typed: str,
                                                                     refusal: str) -> None:
    await watch("BTC_USDT", amount_usd=Decimal(100))
    chat = market_bot.chat()
    card = await chat.press(await chat.send("/watchlist"), "BTC_USDT")
    prompt = await chat.press(card, "Amount")
    assert "BTC_USDT: send the new amount a buy in USD (now 100.00" in prompt.text
    answer = await chat.send(typed)
    assert answer.text.startswith("⚠️ " + refusal)
    assert "Send another value, or press Cancel." in answer.text
    assert (await WatchlistEntry.get(symbol="BTC_USDT")).amount_usd == Decimal(100)
    saved = await chat.send("150")              # still in the conversation: the next value is taken
    assert saved.text.startswith(f"✅ BTC_USDT: amount a buy set to 150.00{NB}USD")
    assert (await WatchlistEntry.get(symbol="BTC_USDT")).amount_usd == Decimal(150)


async def test_spanish_refusals_and_decimal_comma(market_bot: MarketBot) -> None:
    await watch("ETH_USDT")
    chat = market_bot.chat(language="es")
    card = await chat.press(await chat.send("/watchlist"), "ETH_USDT")
    prompt = await chat.press(card, "SL %")
    assert "envía el nuevo valor de «stop-loss» en %" in prompt.text
    assert (await chat.send("cien")).text.startswith("⚠️ «cien» no es un número")
    assert "no puede pasar de 90" in (await chat.send("95")).text
    saved = await chat.send("2,5")
    assert saved.text.startswith(f"✅ ETH_USDT: stop-loss cambiado a 2,50{NB}%")
    assert (await WatchlistEntry.get(symbol="ETH_USDT")).stop_loss_percent == Decimal("2.5")


async def test_cancel_ends_the_conversation_and_later_text_is_not_taken(market_bot: MarketBot) -> None:
    await watch("BTC_USDT", amount_usd=Decimal(100))
    chat = market_bot.chat()
    card = await chat.press(await chat.send("/watchlist"), "BTC_USDT")
    prompt = await chat.press(card, "TP %")
    canceled = await chat.press(prompt, "Cancel")
    assert canceled.text == "Canceled: nothing was changed."
    market_bot.emulator.push_message(ALLOWED, "7", language_code="en")
    await chat.quiet()
    assert (await WatchlistEntry.get(symbol="BTC_USDT")).take_profit_percent == Decimal(3)


@pytest.mark.parametrize("typed", ["BTCUSDT", "btc", "BTC-USD", "BTC_USTD"])
async def test_a_near_miss_symbol_is_answered_with_suggestions(market_bot: MarketBot, typed: str) -> None:
    chat = market_bot.chat()
    listing = await chat.send("/watchlist")
    prompt = await chat.press(listing, "Add a coin")
    assert "Send the symbol" in prompt.text
    answer = await chat.send(typed)
    assert answer.text.startswith(f"⚠️ {typed} is not listed on the exchange")
    assert "Did you mean:" in answer.text
    added = await chat.press(answer, "BTC_USDT")
    assert added.text.startswith("✅ BTC_USDT added to the watchlist.")
    assert await WatchlistEntry.filter(symbol="BTC_USDT").exists()


async def test_an_exact_symbol_is_added_with_the_users_default_levels(market_bot: MarketBot) -> None:
    await market_bot.services.user_settings.set_default_percent(ALLOWED, NumberField.STOP_LOSS, "2")
    chat = market_bot.chat()
    prompt = await chat.press(await chat.send("/watchlist"), "Add a coin")
    added = await chat.send("sol/usdt")
    assert added.text.startswith("✅ SOL_USDT added")
    row = await WatchlistEntry.get(symbol="SOL_USDT")
    assert row.stop_loss_percent == Decimal(2) and row.take_profit_percent == Decimal(3)
    assert prompt.kind == "message"


async def test_an_unknown_symbol_without_near_miss_keeps_asking(market_bot: MarketBot) -> None:
    chat = market_bot.chat()
    await chat.press(await chat.send("/watchlist"), "Add a coin")
    answer = await chat.send("QQQQQQ")
    assert answer.text.startswith("⚠️ QQQQQQ is not listed on the exchange")
    assert "Did you mean" not in answer.text and "Send another symbol, or press Cancel." in answer.text
    added = await chat.send("ETH")
    assert "Did you mean:" in added.text and "ETH_USDT" in [t for t, _ in added.buttons]


async def test_adding_a_watched_coin_shows_its_card(market_bot: MarketBot) -> None:
    await watch("BTC_USDT")
    chat = market_bot.chat()
    await chat.press(await chat.send("/watchlist"), "Add a coin")
    answer = await chat.send("BTC_USDT")
    assert answer.text.startswith("ℹ️ BTC_USDT is already on the watchlist")
    assert await WatchlistEntry.filter(symbol="BTC_USDT").count() == 1


async def test_removing_asks_first_then_removes(market_bot: MarketBot) -> None:
    await watch("BTC_USDT", "ETH_USDT")
    chat = market_bot.chat(language="es")
    card = await chat.press(await chat.send("/watchlist"), "ETH_USDT")
    question = await chat.press(card, "Quitar")
    assert question.text.startswith("¿Quitar ETH_USDT de la lista de seguimiento?")
    assert await WatchlistEntry.filter(symbol="ETH_USDT").exists()
    removed = await chat.press(question, "Sí, quitar")
    assert removed.text.startswith("🗑 ETH_USDT quitado de la lista de seguimiento.")
    assert not await WatchlistEntry.filter(symbol="ETH_USDT").exists()
    again = await chat.press_data(removed, "wl:removed:ETH_USDT::0")      # a second press of an old button
    assert "ETH_USDT no está en la lista de seguimiento" in again.text


async def test_long_watchlists_are_paged(market_bot: MarketBot) -> None:
    for i in range(20):
        await WatchlistEntry.create(symbol=f"C{i:02d}_USDT")
    chat = market_bot.chat()
    first = await chat.send("/watchlist")
    assert "C00_USDT" in first.text and "C08_USDT" not in first.text and ("1/3", "wl:list:::0") in first.buttons
    second = await chat.press(first, "▶")
    assert second.kind == "edit" and "C08_USDT" in second.text and "C00_USDT" not in second.text


async def test_a_stranger_is_refused_on_command_button_and_conversation(market_bot: MarketBot) -> None:
    await watch("BTC_USDT")
    stranger = market_bot.chat(STRANGER)
    refused = await stranger.send("/watchlist")
    assert refused.text == "Sorry, this is a private bot." and not refused.buttons
    owner = market_bot.chat()
    card = await owner.press(await owner.send("/watchlist"), "BTC_USDT")
    for data in ("wl:toggle:BTC_USDT:trade:0", "wl:edit:BTC_USDT:amount_usd:0", "wl:removed:BTC_USDT::0",
                 "wl:add:::0", "wl:pick:ETH_USDT::0"):
        market_bot.emulator.push_callback(STRANGER, card.message["message_id"], data, language_code="en")
    await owner.press(card, "Amount")                      # the owner's conversation is open...
    market_bot.emulator.push_message(STRANGER, "5", language_code="en")   # ...a stranger's text is not part of it
    assert [o.text for o in await stranger.quiet()] == ["Sorry, this is a private bot."]
    row = await WatchlistEntry.get(symbol="BTC_USDT")
    assert row.trade_enabled is False and row.amount_usd == 0
    assert not await WatchlistEntry.filter(symbol="ETH_USDT").exists()


async def test_a_user_dropped_from_the_allow_list_mid_conversation_is_refused(db: str, aiohttp_server,
                                                                             monkeypatch) -> None:
    await watch("BTC_USDT")
    storage = MemoryStorage()          # the conversation's state outlives the bot's restart
    async with running_market_bot(aiohttp_server, monkeypatch, storage=storage) as first:
        chat = first.chat()
        card = await chat.press(await chat.send("/watchlist"), "BTC_USDT")
        await chat.press(card, "Amount")
    async with running_market_bot(aiohttp_server, monkeypatch, storage=storage, allowed=(STRANGER,)) as second:
        chat = second.chat()
        answer = await chat.send("250")
        assert answer.text == "Sorry, this is a private bot."
        assert await chat.quiet() == []
    assert (await WatchlistEntry.get(symbol="BTC_USDT")).amount_usd == 0


@pytest.mark.storage
@pytest.mark.lock
async def test_the_edit_conversation_survives_a_restart_on_redis_storage(db: str, aiohttp_server, monkeypatch) -> None:
    """With REDIS_URL the conversation's state lives in Redis (RedisStorage): a bot restarted between
    the prompt and the answer still takes the answer (real Redis under make test, else fakeredis)."""
    import os

    from aiogram.fsm.storage.redis import RedisStorage

    url = os.environ.get("TEST_REDIS_URL")
    if url:
        from redis.asyncio import Redis

        def client() -> Any:
            return Redis.from_url(url)
    else:
        import fakeredis

        server = fakeredis.FakeServer()

        def client() -> Any:
            return fakeredis.FakeAsyncRedis(server=server)
    first_client = client()
    await first_client.flushdb()
    await watch("BTC_USDT", amount_usd=Decimal(100))
    async with running_market_bot(aiohttp_server, monkeypatch, storage=RedisStorage(first_client)) as first:
        chat = first.chat()
        card = await chat.press(await chat.send("/watchlist"), "BTC_USDT")
        await chat.press(card, "Amount")
    async with running_market_bot(aiohttp_server, monkeypatch, storage=RedisStorage(client())) as second:
        saved = await second.chat().send("250")
        assert saved.text.startswith(f"✅ BTC_USDT: amount a buy set to 250.00{NB}USD")
    assert (await WatchlistEntry.get(symbol="BTC_USDT")).amount_usd == Decimal(250)


@pytest.mark.parametrize("command", ["/orders", "/signals", "/nonsense"])
async def test_a_command_mid_conversation_ends_it_and_runs(market_bot: MarketBot, command: str) -> None:
    await watch("BTC_USDT", amount_usd=Decimal(100))
    chat = market_bot.chat()
    card = await chat.press(await chat.send("/watchlist"), "BTC_USDT")
    await chat.press(card, "Amount")
    market_bot.emulator.push_message(ALLOWED, command, language_code="en")
    answered = await chat.quiet(0.5)
    assert all("amount" not in o.text.lower() for o in answered)
    if command != "/nonsense":
        assert answered, f"{command} was not answered"
    market_bot.emulator.push_message(ALLOWED, "150", language_code="en")   # no longer an amount
    assert all("set to" not in o.text for o in await chat.quiet())
    assert (await WatchlistEntry.get(symbol="BTC_USDT")).amount_usd == Decimal(100)


async def test_a_command_mid_add_ends_it_and_can_open_a_new_conversation(market_bot: MarketBot) -> None:
    await watch("BTC_USDT", amount_usd=Decimal(100))
    chat = market_bot.chat()
    listing = await chat.send("/watchlist")
    await chat.press(listing, "Add a coin")
    await chat.send("/orders")
    # No longer a step of the add: only the catch-all's pointer to /help answers it.
    assert (await chat.send("ETH_USDT")).text == "I didn't understand that. /help lists what I can do."
    assert not await WatchlistEntry.filter(symbol="ETH_USDT").exists()
    prompt = await chat.press(await chat.press(listing, "BTC_USDT"), "Amount")   # a new conversation works
    assert "send the new amount" in prompt.text
    assert (await chat.send("150")).text.startswith(f"✅ BTC_USDT: amount a buy set to 150.00{NB}USD")
