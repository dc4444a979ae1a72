"""The JSON API over real stored data: whole-history paging, filters, CSV = the filtered set, PATCH
validation that stores nothing on refusal, open orders grouped by OCO group, live-refresh events."""

from __future__ import annotations

import asyncio
import csv
import io
import time
from decimal import Decimal

import pytest

from bot.db.models import WatchlistEntry
from bot.db.repositories import UserRepository
from bot.domain.events import OrderFilled
from bot.domain.orders import Side
from bot.services.events import EventBus
from bot.services.watchlist import Flag, WatchlistService
from tests.webapp.harness import (
    ALLOWED,
    BASE_NS,
    MODE,
    auth,
    build_app,
    seed_executed,
    seed_group,
    seed_signal,
    seed_snapshots,
    seed_watchlist,
)
from webapp.security import MAX_BODY_BYTES

pytestmark = pytest.mark.storage
D = Decimal


async def page_through(client, path: str, params: dict[str, str]) -> list[dict]:
    items, cursor, pages = [], None, 0
    while True:
        query = dict(params, **({"cursor": cursor} if cursor else {}))
        response = await client.get(path, params=query, headers=auth())
        assert response.status == 200, await response.text()
        body = await response.json()
        items += body["items"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return items


async def test_executed_orders_page_to_the_last_of_100000(exchange, aiohttp_client) -> None:
    started = time.perf_counter()
    seeded = await seed_executed(100_000)
    seeding_s = time.perf_counter() - started
    client = await aiohttp_client(build_app(exchange))
    items = await page_through(client, "/api/orders/executed", {"limit": "500"})
    assert len(items) == 100_000, seeding_s
    assert len({i["order_id"] for i in items}) == 100_000
    assert items[0]["order_id"] == f"X{seeded.count - 1:09d}"          # newest first
    assert items[-1]["order_id"] == "X000000000"
    times = [i["created_at"] for i in items]
    assert times == sorted(times, reverse=True)


async def test_filters_and_oldest_first(exchange, aiohttp_client) -> None:
    await seed_executed(1000)
    client = await aiohttp_client(build_app(exchange))
    since_ns, until_ns = BASE_NS + 100 * 60_000_000_000, BASE_NS + 900 * 60_000_000_000
    from datetime import UTC, datetime

    since = datetime.fromtimestamp(since_ns / 1e9, UTC).isoformat()
    until = datetime.fromtimestamp(until_ns / 1e9, UTC).isoformat()
    params = {"symbol": "eth_usdt", "side": "SELL", "status": "FILLED", "from": since, "to": until, "sort": "asc",
              "limit": "7"}
    items = await page_through(client, "/api/orders/executed", params)
    everything = await page_through(client, "/api/orders/executed", {"limit": "500"})
    expected = [i for i in everything if i["symbol"] == "ETH_USDT" and i["side"] == "SELL"
                and i["status"] == "FILLED" and since <= i["created_at"] < until]
    assert items == list(reversed(expected))
    assert expected, "the filter must select something"


@pytest.mark.parametrize("query, fragment", [
    ({"limit": "501"}, "limit"), ({"limit": "0"}, "limit"), ({"limit": "x"}, "limit"),
    ({"side": "HOLD"}, "side"), ({"status": "NEW"}, "status"), ({"from": "yesterday"}, "from"),
    ({"from": "2026-02-01", "to": "2026-01-01"}, "from"), ({"cursor": "bm90IGEgY3Vyc29y"}, "cursor"),
    ({"symbol": "BTC-USD!"}, "symbol"), ({"sort": "up"}, "sort"),
])
async def test_bad_list_parameters_are_400_with_a_message(query, fragment, exchange, aiohttp_client) -> None:
    client = await aiohttp_client(build_app(exchange))
    response = await client.get("/api/orders/executed", params=query, headers=auth())
    assert response.status == 400
    body = await response.json()
    assert fragment in body["message"]


async def test_a_cursor_from_another_list_is_refused(exchange, aiohttp_client) -> None:
    await seed_watchlist("AAA_USDT", "BBB_USDT")
    client = await aiohttp_client(build_app(exchange))
    cursor = (await (await client.get("/api/watchlist", params={"limit": "1"}, headers=auth())).json())["next_cursor"]
    response = await client.get("/api/orders/executed", params={"cursor": cursor}, headers=auth())
    assert response.status == 400


async def test_csv_is_the_whole_filtered_set(exchange, aiohttp_client) -> None:
    await seed_executed(4000)
    client = await aiohttp_client(build_app(exchange))
    params = {"symbol": "BTC_USDT", "side": "BUY"}
    expected = await page_through(client, "/api/orders/executed", {**params, "limit": "500"})
    response = await client.get("/api/orders/executed.csv", params=params, headers=auth())
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert [r["order_id"] for r in rows] == [i["order_id"] for i in expected]
    assert len(rows) == len(expected) > 500
    assert rows[0]["quantity"] == expected[0]["quantity"]


async def test_watchlist_patch_stores_a_valid_change(exchange, aiohttp_client) -> None:
    await seed_watchlist("BTC_USDT")
    client = await aiohttp_client(build_app(exchange))
    response = await client.patch("/api/watchlist/BTC_USDT", json={"trade_enabled": True, "amount_usd": "250.5",
                                                                   "stop_loss_percent": 2.5}, headers=auth())
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["trade_enabled"] is True and D(body["amount_usd"]) == D("250.5")
    row = await WatchlistEntry.get(symbol="BTC_USDT")
    assert row.trade_enabled and row.amount_usd == D("250.5") and row.stop_loss_percent == D("2.5")


@pytest.mark.parametrize("body, fragment", [
    ({"trade_enabled": "yes"}, "trade_enabled"), ({"trade_enabled": 1}, "trade_enabled"),
    ({"amount_usd": -1}, "amount_usd"), ({"amount_usd": "1e9"}, "amount_usd"), ({"amount_usd": "NaN"}, "amount_usd"),
    ({"stop_loss_percent": 0}, "stop_loss_percent"), ({"take_profit_percent": 1001}, "take_profit_percent"),
    ({"stop_loss_percent": "91"}, "stop_loss_percent"),
    ({"amount_usd": True}, "amount_usd"), ({"amount_usd": [1]}, "amount_usd"), ({"symbol": "X"}, "symbol"),
    ({}, "JSON"), ([1, 2], "JSON"), ({"trade_enabled": True, "amount_usd": "lots"}, "amount_usd"),
])
async def test_watchlist_patch_refuses_bad_values_and_stores_nothing(body, fragment, exchange, aiohttp_client) -> None:
    await seed_watchlist("BTC_USDT")
    before = await WatchlistEntry.get(symbol="BTC_USDT")
    client = await aiohttp_client(build_app(exchange))
    response = await client.patch("/api/watchlist/BTC_USDT", json=body, headers=auth())
    assert response.status == 400
    assert fragment in (await response.json())["message"]
    after = await WatchlistEntry.get(symbol="BTC_USDT")
    assert (after.trade_enabled, after.amount_usd, after.stop_loss_percent, after.take_profit_percent) == (
        before.trade_enabled, before.amount_usd, before.stop_loss_percent, before.take_profit_percent)


async def test_watchlist_patch_of_an_unknown_symbol_or_not_json_is_400(exchange, aiohttp_client) -> None:
    client = await aiohttp_client(build_app(exchange))
    response = await client.patch("/api/watchlist/DOGE_USDT", json={"trade_enabled": True}, headers=auth())
    assert response.status == 400 and "DOGE_USDT" in (await response.json())["message"]
    response = await client.patch("/api/watchlist/BTC_USDT", data=b"{not json", headers=auth())
    assert response.status == 400


async def test_messages_follow_the_readers_language(exchange, aiohttp_client) -> None:
    client = await aiohttp_client(build_app(exchange))
    response = await client.get("/api/orders/executed", params={"side": "x"}, headers=auth(language="es"))
    assert (await response.json())["message"] == "side debe ser BUY o SELL"
    response = await client.get("/api/orders/executed", params={"side": "x"}, headers=auth(language="en"))
    assert (await response.json())["message"] == "side must be BUY or SELL"


async def test_a_body_over_the_limit_is_refused_before_it_is_read(exchange, aiohttp_client) -> None:
    await seed_watchlist("BTC_USDT")
    client = await aiohttp_client(build_app(exchange))
    response = await client.patch("/api/watchlist/BTC_USDT", data=b"{" + b" " * (MAX_BODY_BYTES + 10) + b"}",
                                  headers={**auth(), "Content-Type": "application/json"})
    assert response.status == 413


async def test_security_headers_on_pages_and_api(exchange, aiohttp_client) -> None:
    client = await aiohttp_client(build_app(exchange))
    for path, headers in (("/app/", {}), ("/api/dashboard/state", auth()), ("/api/dashboard/state", {}),
                          ("/static/app.js", {})):
        response = await client.get(path, headers=headers)
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'self' https://web.telegram.org" in csp and "script-src 'self'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    page = await (await client.get("/app/")).text()
    assert "tgWebAppData" not in page and "TEST-TOKEN" not in page


async def test_open_orders_grouped_with_unprotected_and_problems(exchange, aiohttp_client) -> None:
    from bot.db.models import BalanceRecord

    await seed_group("BTC_USDT")
    await BalanceRecord.create(mode=MODE, account="main", asset="ETH", total=D(2), free=D(2), locked=D(0))
    await BalanceRecord.create(mode=MODE, account="main", asset="BTC", total=D("0.01"), free=D(0),
                               locked=D("0.01"))
    await seed_snapshots([D(1000)], positions=[
        {"asset": "BTC", "quantity": "0.01", "price": "101000", "usd_value": "1010"},
        {"asset": "ETH", "quantity": "2", "price": "3000", "usd_value": "6000"}])
    client = await aiohttp_client(build_app(exchange))
    body = await (await client.get("/api/orders/open", headers=auth())).json()
    assert [g["group_id"] for g in body["groups"]] == ["g-btc_usdt"]
    group = body["groups"][0]
    assert {leg["role"] for leg in group["legs"]} == {"stop_loss", "take_profit"}
    assert D(group["pnl"]) == D(10)                       # (101,000 - 100,000) x 0.01
    assert body["orders"] == []
    assert [(u["asset"], D(u["value_at_risk_usd"])) for u in body["unprotected"]] == [("ETH", D(6000))]
    state = await (await client.get("/api/dashboard/state", headers=auth())).json()
    assert state["counts"]["active_groups"] == 1 and state["counts"]["unprotected_positions"] == 1
    assert state["counts"]["open_orders"] == 2


async def test_oco_problems_are_worded_in_the_readers_language(exchange, aiohttp_client) -> None:
    from bot.db.models import OrderRecord

    await seed_group("BTC_USDT")
    await OrderRecord.filter(oco_group_id="g-btc_usdt").update(status="CANCELED")   # no leg left open
    client = await aiohttp_client(build_app(exchange))
    spanish = await (await client.get("/api/views/orders/open", headers=auth(language="es"))).text()
    assert "ninguna pata de este grupo está abierta" in spanish and "incomplete_group" not in spanish
    english = await (await client.get("/api/orders/open", headers=auth(language="en"))).json()
    [problem] = english["problems"]
    assert problem["kind"] == "incomplete_group"
    assert problem["detail"] == "incomplete: no leg of this group is open on the exchange"


async def test_portfolio_history_and_change(exchange, aiohttp_client) -> None:
    await seed_snapshots([D(1000), D(1010), D(990), D(1020), D(1100)])
    client = await aiohttp_client(build_app(exchange))
    items = await page_through(client, "/api/portfolio/history", {"limit": "2"})
    assert [D(i["total_usd"]) for i in items] == [D(1000), D(1010), D(990), D(1020), D(1100)]
    state = await (await client.get("/api/dashboard/state", headers=auth())).json()
    assert D(state["portfolio"]["total_usd"]) == D(1100)
    assert D(state["portfolio"]["change_usd"]) == D(100)                 # against the one 24 h before
    portfolio = await (await client.get("/api/portfolio", headers=auth())).json()
    assert D(portfolio["assets"][0]["share_percent"]) == 100


async def test_the_portfolio_page_shows_cash_to_the_cent_and_coins_exactly(exchange, aiohttp_client) -> None:
    """Seen in a screenshot: "USDT 10,016.1468319845" (the exchange's dust decimals)."""
    await seed_snapshots([D(1100)], positions=[
        {"asset": "USDT", "quantity": "89.9968319845", "price": "1", "usd_value": "89.9968319845"},
        {"asset": "BTC", "quantity": "0.01", "price": "101000", "usd_value": "1010"}])
    client = await aiohttp_client(build_app(exchange))
    page = await (await client.get("/api/views/portfolio", headers=auth())).text()
    assert ">90.00<" in page and "89.99683" not in page
    assert ">0.01<" in page


async def test_signals_show_the_latest_decision_per_coin(exchange, aiohttp_client) -> None:
    await seed_watchlist("BTC_USDT", "ETH_USDT")
    await seed_signal("BTC_USDT", "WAIT", minutes_ago=10)
    await seed_signal("BTC_USDT", "BUY", minutes_ago=1)
    client = await aiohttp_client(build_app(exchange))
    body = await (await client.get("/api/signals", headers=auth())).json()
    assert [(s["symbol"], s["decision"]) for s in body["items"]] == [("BTC_USDT", "BUY"), ("ETH_USDT", None)]


async def test_candles_with_levels_and_unknown_symbols(exchange, aiohttp_client) -> None:
    await seed_group("BTC_USDT")
    client = await aiohttp_client(build_app(exchange))
    body = await (await client.get("/api/candles/BTC_USDT", params={"limit": "50"}, headers=auth())).json()
    assert len(body["candles"]) == 50
    assert sorted(D(level["price"]) for level in body["levels"]) == [D(97000), D(103000)]
    response = await client.get("/api/candles/NOPE_USDT", headers=auth())
    assert response.status == 400 and "NOPE_USDT" in (await response.json())["message"]


async def test_events_stream_names_what_changed(exchange, aiohttp_client) -> None:
    events = EventBus()
    client = await aiohttp_client(build_app(exchange, events=events))
    response = await client.get("/api/events", headers=auth())
    assert response.status == 200 and response.headers["Content-Type"] == "text/event-stream"
    assert b"event: hello" in await response.content.readuntil(b"\n\n")
    await events.publish(OrderFilled(order_id="1", client_oid=None, symbol="BTC_USDT", side=Side.BUY,
                                     quantity=D(1), price=D(1), partial=False))
    message = await asyncio.wait_for(response.content.readuntil(b"\n\n"), 2)
    assert b"event: change" in message and b'"orders"' in message
    response.close()


async def test_a_watchlist_change_made_in_the_chat_refreshes_open_pages(exchange, aiohttp_client) -> None:
    events = EventBus()
    app = build_app(exchange, events=events)
    client = await aiohttp_client(app)
    await seed_watchlist("BTC_USDT")
    response = await client.get("/api/events", headers=auth())
    assert b"event: hello" in await response.content.readuntil(b"\n\n")
    chat_side = WatchlistService(exchange, events=events)        # the bot's own instance, not the page's
    await chat_side.toggle("BTC_USDT", Flag.TRADE)
    message = await asyncio.wait_for(response.content.readuntil(b"\n\n"), 2)
    assert b"event: change" in message and b'"watchlist"' in message
    response.close()


async def test_views_show_times_in_the_readers_own_zone(exchange, aiohttp_client) -> None:
    await seed_watchlist("BTC_USDT")
    await seed_signal("BTC_USDT", "BUY")
    client = await aiohttp_client(build_app(exchange))
    before = await (await client.get("/api/views/signals", headers=auth())).text()
    assert " UTC" in before                                     # no zone chosen: the bot's TIMEZONE
    await UserRepository().update(ALLOWED, timezone="Asia/Tokyo")
    after = await (await client.get("/api/views/signals", headers=auth())).text()
    assert " JST" in after and " UTC" not in after
