"""The portfolio as the last sync valued it (assets, quantity, USD value, share) and its value over time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from aiohttp import web

from bot.db.repositories.dashboard import InvalidCursor
from webapp.charts import line_chart
from webapp.context import MiniApp, miniapp_of
from webapp.i18n import gettext as _
from webapp.routes.common import BadRequest, json_ok, parse_limit, parse_moment, render_view

DEFAULT_HISTORY = timedelta(days=30)
CHART_POINTS = 500


async def portfolio(app: MiniApp) -> dict[str, Any]:
    latest = await app.repository.latest_snapshot()
    if latest is None:
        return {"taken_at": None, "total_usd": None, "assets": [], "unpriced_assets": []}
    total = latest.total_usd
    assets = []
    for position in latest.positions:
        value = None if position.get("usd_value") is None else Decimal(str(position["usd_value"]))
        share = (value / total * 100).quantize(Decimal("0.01")) if value is not None and total > 0 else None
        assets.append({"asset": position["asset"], "quantity": Decimal(str(position["quantity"])),
                       "price": None if position.get("price") is None else Decimal(str(position["price"])),
                       "usd_value": value, "share_percent": share})
    assets.sort(key=lambda a: (a["usd_value"] is None, -(a["usd_value"] or 0), a["asset"]))
    return {"taken_at": latest.taken_at, "total_usd": total, "assets": assets,
            "unpriced_assets": list(latest.unpriced_assets)}


async def history(request: web.Request, *, default_limit: int | None = None) -> tuple[list[dict[str, Any]], str | None]:
    since, until = parse_moment(request, "from"), parse_moment(request, "to")
    if since is None and not request.query.get("cursor"):
        since = datetime.now(UTC) - DEFAULT_HISTORY
    limit = default_limit if default_limit is not None and "limit" not in request.query else parse_limit(request)
    try:
        page = await miniapp_of(request).repository.snapshot_totals_page(
            since=since, until=until, cursor=request.query.get("cursor") or None, limit=limit)
    except InvalidCursor:
        raise BadRequest(_("cursor is not one this list gave out; start again without it")) from None
    return [{"taken_at": t, "total_usd": v} for _i, t, v in page.items], page.next_cursor


async def get_portfolio(request: web.Request) -> web.Response:
    return json_ok(await portfolio(miniapp_of(request)))


async def get_history(request: web.Request) -> web.Response:
    points, next_cursor = await history(request)
    return json_ok({"items": points, "next_cursor": next_cursor})


async def view(request: web.Request) -> web.Response:
    data = await portfolio(miniapp_of(request))
    points, _next = await history(request, default_limit=CHART_POINTS)
    chart = line_chart([(p["taken_at"], p["total_usd"]) for p in points]) if len(points) > 1 else None
    return render_view(request, "portfolio.html", {"data": data, "chart": chart, "points": len(points)})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/portfolio", get_portfolio)
    app.router.add_get("/api/portfolio/history", get_history)
    app.router.add_get("/api/views/portfolio", view)
