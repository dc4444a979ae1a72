"""Open orders grouped by OCO group (with unprotected positions and problem flags), and the whole
executed history: keyset pages, filters, newest or oldest first, and a streamed CSV of the filtered set."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aiohttp import web

from bot.db.models import OcoGroupRecord, OrderRecord
from bot.db.repositories.dashboard import FINAL_STATUS_VALUES, ORDER_COLUMNS, InvalidCursor, OrderFilter
from bot.domain.orders import OrderRole
from bot.presentation.oco_problems import issue_words
from webapp.context import MiniApp, miniapp_of
from webapp.i18n import gettext as _
from webapp.routes.common import (
    BadRequest,
    json_ok,
    parse_limit,
    parse_moment,
    parse_symbol,
    render_view,
)

SIDES = ("BUY", "SELL")
CSV_KEYS = ["created_at", "symbol", "side", "type", "status", "quantity", "filled_quantity", "price",
            "trigger_price", "avg_price", "value", "fee", "fee_currency", "role", "source", "order_id", "client_oid",
            "group_id"]


def order_time(created_at: datetime | None, create_time_ns: int) -> datetime | None:
    """When the exchange created the order: its nanosecond time (what lists sort by), else the date."""
    if create_time_ns:
        return datetime.fromtimestamp(create_time_ns / 1e9, UTC)
    return created_at


def order_json(row: OrderRecord | dict[str, Any]) -> dict[str, Any]:
    """An order for the API, from a stored record or from its plain column values (`ORDER_COLUMNS`)."""
    v = row if isinstance(row, dict) else {c: getattr(row, c, None) for c in (*ORDER_COLUMNS, "exchange_created_at")}
    group = v["oco_group_id"]
    return {"order_id": v["exchange_order_id"], "client_oid": v["client_oid"], "symbol": v["symbol"],
            "side": v["side"], "type": v["order_type"], "status": v["status"], "role": v["role"],
            "source": v["source"], "quantity": v["quantity"], "filled_quantity": v["filled_quantity"],
            "price": v["price"], "trigger_price": v["trigger_price"], "avg_price": v["avg_price"],
            "value": v["cumulative_value"], "fee": v["fee"], "fee_currency": v["fee_currency"],
            "created_at": order_time(v.get("exchange_created_at"), v["create_time_ns"] or 0),
            "group_id": None if group is None else str(group)}


def base_asset(symbol: str) -> str:
    return symbol.split("_", 1)[0]


async def usd_prices(app: MiniApp) -> dict[str, Decimal]:
    """The last sync's USD price of each held asset (its portfolio snapshot): P/L without an exchange call."""
    latest = await app.repository.latest_snapshot()
    prices: dict[str, Decimal] = {}
    for position in (latest.positions if latest is not None else []):
        if position.get("price") is not None:
            prices[str(position["asset"])] = Decimal(str(position["price"]))
    return prices


def group_json(group: OcoGroupRecord, legs: list[OrderRecord], price: Decimal | None,
               problems: list[dict[str, Any]]) -> dict[str, Any]:
    pnl = pnl_percent = None
    if price is not None:
        pnl = (price - group.entry_price) * group.quantity
        if group.entry_price > 0:
            pnl_percent = ((price - group.entry_price) / group.entry_price * 100).quantize(Decimal("0.01"))
    return {"group_id": group.id, "symbol": group.symbol, "state": group.state, "quantity": group.quantity,
            "entry_price": group.entry_price, "stop_loss_price": group.stop_loss_price,
            "take_profit_price": group.take_profit_price, "current_price": price, "pnl": pnl,
            "pnl_percent": pnl_percent, "legs": [order_json(leg) for leg in legs], "problems": problems}


async def open_orders(app: MiniApp) -> dict[str, Any]:
    repo = app.repository
    health = await app.oco_health.check()
    problems_by_group: dict[str | None, list[dict[str, Any]]] = {}
    problems = []
    for issue in health.issues:
        item = {"kind": issue.kind, "symbol": issue.symbol, "group_id": issue.group_id,
                "order_ids": list(issue.order_ids), "detail": issue_words(issue, _)}
        problems.append(item)
        problems_by_group.setdefault(issue.group_id, []).append(item)
    groups = await repo.active_groups()
    legs = await repo.legs_of_groups(g.id for g in groups)
    legs_by_group: dict[str, list[OrderRecord]] = {}
    for leg in legs:
        legs_by_group.setdefault(str(getattr(leg, "oco_group_id", "")), []).append(leg)
    prices = await usd_prices(app)
    grouped_ids = {leg.id for leg in legs}
    loose = [row for row in await repo.open_orders() if row.id not in grouped_ids
             and str(getattr(row, "oco_group_id", None)) not in legs_by_group]
    return {
        "groups": [group_json(g, legs_by_group.get(g.id, []), prices.get(base_asset(g.symbol)),
                              problems_by_group.get(g.id, [])) for g in groups],
        "orders": [order_json(row) for row in loose],
        "unprotected": [{"asset": p.asset, "symbol": f"{p.asset}_USDT", "quantity": p.quantity, "price": p.price,
                         "value_at_risk_usd": p.value_at_risk_usd} for p in health.unprotected],
        "problems": problems,
    }


def parse_filter(request: web.Request) -> OrderFilter:
    query = request.query
    side = query.get("side", "").upper() or None
    if side is not None and side not in SIDES:
        raise BadRequest(_("side must be BUY or SELL"))
    status = query.get("status", "").upper() or None
    if status is not None and status not in FINAL_STATUS_VALUES:
        raise BadRequest(_("status must be one of {choices}").format(choices=", ".join(FINAL_STATUS_VALUES)))
    since, until = parse_moment(request, "from"), parse_moment(request, "to")
    if since is not None and until is not None and since >= until:
        raise BadRequest(_("from must be before to"))
    return OrderFilter(symbol=parse_symbol(request, query.get("symbol")), side=side, status=status,
                       since=since, until=until)


def parse_sort(request: web.Request) -> bool:
    sort = request.query.get("sort", "desc")
    if sort not in ("desc", "asc"):
        raise BadRequest(_("sort must be desc (newest first) or asc (oldest first)"))
    return sort == "desc"


async def executed_page(request: web.Request) -> tuple[OrderFilter, list[dict[str, Any]], str | None, bool]:
    filters, newest_first, limit = parse_filter(request), parse_sort(request), parse_limit(request)
    try:
        page = await miniapp_of(request).repository.executed_page(
            filters, cursor=request.query.get("cursor") or None, limit=limit, newest_first=newest_first)
    except InvalidCursor:
        raise BadRequest(_("cursor is not one this list gave out; start again without it")) from None
    return filters, page.items, page.next_cursor, newest_first


async def get_open(request: web.Request) -> web.Response:
    return json_ok(await open_orders(miniapp_of(request)))


async def get_executed(request: web.Request) -> web.Response:
    _filters, rows, next_cursor, _newest = await executed_page(request)
    return json_ok({"items": [order_json(row) for row in rows], "next_cursor": next_cursor})


CSV_SOURCE = {"symbol": "symbol", "side": "side", "type": "order_type", "status": "status", "quantity": "quantity",
              "filled_quantity": "filled_quantity", "price": "price", "trigger_price": "trigger_price",
              "avg_price": "avg_price", "value": "cumulative_value", "fee": "fee", "fee_currency": "fee_currency",
              "role": "role", "source": "source", "order_id": "exchange_order_id", "client_oid": "client_oid",
              "group_id": "oco_group_id"}


def csv_row(row: dict[str, Any]) -> list[str]:
    moment = order_time(None, row["create_time_ns"] or 0)
    return [moment.isoformat() if moment is not None else ""] + [plain(row[CSV_SOURCE[key]]) for key in CSV_KEYS[1:]]


def plain(value: Any) -> str:
    """A stored decimal without the column's trailing zeros (DECIMAL(38, 16)); text as it is."""
    if value is None:
        return ""
    text = str(value)
    if isinstance(value, Decimal) and "." in text and "E" not in text:
        text = text.rstrip("0").rstrip(".")
    return text


async def get_executed_csv(request: web.Request) -> web.StreamResponse:
    """The whole filtered set, written as it is read (one batch in memory at a time)."""
    filters, newest_first = parse_filter(request), parse_sort(request)
    response = web.StreamResponse(headers={
        "Content-Type": "text/csv; charset=utf-8", "Cache-Control": "no-store",
        "Content-Disposition": 'attachment; filename="executed-orders.csv"'})
    from webapp.security import apply_headers

    apply_headers(request, response)
    await response.prepare(request)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_KEYS)
    async for batch in miniapp_of(request).repository.executed_batches(filters, newest_first=newest_first):
        for row in batch:
            writer.writerow(csv_row(row))
        await response.write(buffer.getvalue().encode())
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        await response.write(buffer.getvalue().encode())
    await response.write_eof()
    return response


async def view_open(request: web.Request) -> web.Response:
    return render_view(request, "orders_open.html", {"data": await open_orders(miniapp_of(request)),
                                                      "ROLE": OrderRole})


async def view_executed(request: web.Request) -> web.Response:
    filters, rows, next_cursor, newest_first = await executed_page(request)
    query = {k: v for k, v in request.query.items() if k != "cursor" and v}
    return render_view(request, "orders_executed.html", {
        "rows": [order_json(r) for r in rows], "next_cursor": next_cursor, "filters": filters, "query": query,
        "newest_first": newest_first, "statuses": FINAL_STATUS_VALUES, "first_page": not request.query.get("cursor")})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/orders/open", get_open)
    app.router.add_get("/api/orders/executed", get_executed)
    app.router.add_get("/api/orders/executed.csv", get_executed_csv)
    app.router.add_get("/api/views/orders/open", view_open)
    app.router.add_get("/api/views/orders/executed", view_executed)
