"""The aiohttp application: /healthz, and the Telegram Mini App (pages, JSON API, live refresh)."""

from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from webapp.auth import VERIFIER_KEY, InitDataVerifier, require_init_data
from webapp.context import MINIAPP_KEY, MiniApp
from webapp.health import HealthReport, add_health_routes
from webapp.i18n import Translator
from webapp.openapi import add_openapi_route
from webapp.routes import add_routes
from webapp.routes.common import TRANSLATOR_KEY, reader_locale
from webapp.security import MAX_BODY_BYTES, errors_as_json, security_headers

TEMPLATES = Path(__file__).resolve().parent / "templates"


def build_web_app(health: HealthReport, miniapp: MiniApp | None = None) -> web.Application:
    """The web server's application; with `miniapp`, the dashboard and its API on it too."""
    app = web.Application(client_max_size=MAX_BODY_BYTES,
                          middlewares=[security_headers, errors_as_json, require_init_data, reader_locale])
    add_health_routes(app, health)
    if miniapp is None:
        return app
    app[MINIAPP_KEY] = miniapp
    app[VERIFIER_KEY] = InitDataVerifier(miniapp.config.token, frozenset(miniapp.config.allowed_users))
    translator = Translator(miniapp.config.default_language)
    app[TRANSLATOR_KEY] = translator
    env = aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(TEMPLATES), extensions=["jinja2.ext.i18n"],
                               autoescape=jinja2.select_autoescape(default=True), undefined=jinja2.StrictUndefined)
    env.install_gettext_callables(gettext=translator.gettext, ngettext=translator.ngettext,  # type: ignore[attr-defined]
                                  newstyle=True)
    add_routes(app)
    add_openapi_route(app)
    return app
