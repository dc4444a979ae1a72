"""The Mini App's routes, one module per area; `add_routes` puts them all on the application."""

from __future__ import annotations

from aiohttp import web

from webapp.routes import actions, dashboard, events, orders, pages, portfolio, signals, watchlist


def add_routes(app: web.Application) -> None:
    for area in (dashboard, orders, portfolio, watchlist, signals, actions, events, pages):
        area.add_routes(app)
