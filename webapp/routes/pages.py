"""The pages: one shell (no data in it) for every address under /app/; its script reads the launch
data Telegram gives it and fetches the page's view from /api/views/... with that initData.

Inside Telegram the shell loads Telegram's own telegram-web-app.js; outside it (a browser opened
on the address `make run` prints, or a test) a local stand-in with the same API. Views are HTML
rendered here with Jinja2, in the reader's language, so the page needs only a little script.
"""

from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
from aiohttp import web

from webapp.i18n import N_
from webapp.routes.common import translator

STATIC = Path(__file__).resolve().parent.parent / "static"
# Pages and what makes each one refresh (server-sent event topics).
PAGES = {
    "": ("dashboard", ("dashboard", "orders", "portfolio")),
    "orders/open": ("orders/open", ("orders",)),
    "orders/executed": ("orders/executed", ("orders",)),
    "portfolio": ("portfolio", ("portfolio",)),
    "watchlist": ("watchlist", ("watchlist",)),
    "signals": ("signals", ("signals", "watchlist")),
}


async def shell(request: web.Request) -> web.Response:
    path = request.match_info.get("path", "").strip("/")
    if path in PAGES:
        view, topics = PAGES[path]
    elif path.startswith("signals/") and path.count("/") == 1:
        view, topics = path, ("signals", "orders")
    else:
        raise web.HTTPNotFound()
    tr = translator(request)
    response = aiohttp_jinja2.render_template("shell.html", request, {
        "view": view, "topics": ",".join(topics), "nested": path != "",
        "unauthorized": {lang: (tr.gettext_in(lang, N_("Not authorized")),
                                tr.gettext_in(lang, N_(
                                    "Open the dashboard from the bot's menu button in Telegram. "
                                    "Its sign-in lasts 24 hours."))) for lang in ("es", "en")},
        "loading": {lang: tr.gettext_in(lang, N_("Loading…")) for lang in ("es", "en")},
    })
    response.headers["Cache-Control"] = "no-cache"
    return response


async def root(request: web.Request) -> web.Response:
    raise web.HTTPFound("/app/")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", root)
    app.router.add_get("/app", root)
    app.router.add_get("/app/", shell)
    app.router.add_get("/app/{path:.+}", shell)
    app.router.add_static("/static/", STATIC, append_version=True)
