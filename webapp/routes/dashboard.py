"""GET /api/dashboard/state: portfolio total and change, counts, last sync and exchange state, mode."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from aiohttp import web

from webapp.context import MiniApp, miniapp_of
from webapp.routes.common import json_ok, render_view

CHANGE_PERIOD = timedelta(hours=24)


async def dashboard_state(app: MiniApp) -> dict[str, Any]:
    repo = app.repository
    latest = await repo.latest_snapshot()
    portfolio: dict[str, Any] | None = None
    if latest is not None:
        before = await repo.snapshot_before(latest.taken_at - CHANGE_PERIOD)
        change = None if before is None else latest.total_usd - before.total_usd
        change_percent = None
        if before is not None and before.total_usd > 0 and change is not None:
            change_percent = (change / before.total_usd * 100).quantize(Decimal("0.01"))
        portfolio = {"total_usd": latest.total_usd, "taken_at": latest.taken_at, "change_usd": change,
                     "change_percent": change_percent, "unpriced_assets": list(latest.unpriced_assets)}
    health = await app.oco_health.check()
    unprotected_value = sum((p.value_at_risk_usd or Decimal(0) for p in health.unprotected), Decimal(0))
    sync_job = (app.health.jobs() if app.health is not None else {}).get("sync") or {}
    last_sync = sync_job.get("last_finished") or await repo.last_sync()
    return {
        "mode": app.config.mode,
        "portfolio": portfolio,
        "counts": {"open_orders": await repo.count_open_orders(), "active_groups": health.active_groups,
                   "unprotected_positions": len(health.unprotected), "oco_problems": len(health.issues)},
        "unprotected_value_usd": unprotected_value,
        "sync": {"last_sync": last_sync, "last_error": sync_job.get("last_error"),
                 "exchange_ok": sync_job.get("last_error") is None},
        "generated_at": datetime.now(UTC),
    }


async def get_state(request: web.Request) -> web.Response:
    return json_ok(await dashboard_state(miniapp_of(request)))


async def view(request: web.Request) -> web.Response:
    state = await dashboard_state(miniapp_of(request))
    if isinstance(state["sync"]["last_sync"], str):
        state["sync"]["last_sync"] = datetime.fromisoformat(state["sync"]["last_sync"])
    return render_view(request, "dashboard.html", {"state": state})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/dashboard/state", get_state)
    app.router.add_get("/api/views/dashboard", view)
