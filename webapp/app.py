"""The aiohttp application: /healthz now; the Mini App pages and JSON API sit here later."""

from __future__ import annotations

from aiohttp import web

from webapp.health import HealthReport, add_health_routes


def build_web_app(health: HealthReport) -> web.Application:
    app = web.Application()
    add_health_routes(app, health)
    return app
