"""What every route shares: JSON with exact decimals, 400s with a message, limits and cursors,
the reader's locale, and server-rendered views of a page's data."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from bot.db.repositories.dashboard import MAX_LIMIT
from bot.presentation import formatting
from bot.presentation.language import pick_language
from webapp.auth import VIEWER_KEY, viewer_of
from webapp.context import miniapp_of
from webapp.i18n import Translator
from webapp.i18n import gettext as _

DEFAULT_LIMIT = 50
SYMBOL_PATTERN = re.compile(r"^(?=.{3,32}$)[A-Z0-9]{1,20}_[A-Z0-9]{1,20}$")   # 32: the column's width
TRANSLATOR_KEY = web.AppKey("translator", Translator)
READER_ZONE = web.RequestKey("reader_zone", str)       # the time zone the reader's times are shown in
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class BadRequest(Exception):
    """The request asks for something this route cannot read (a message for the reader)."""


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        # Plain digits without the storage's trailing zeros (DECIMAL(38, 16)) or an exponent.
        return format(value.normalize(), "f") if value.is_finite() else str(value)
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


def dumps(value: Any) -> str:
    return json.dumps(value, default=_default, ensure_ascii=False, separators=(",", ":"))


def json_ok(value: Any, status: int = 200) -> web.Response:
    return web.json_response(value, status=status, dumps=dumps)


def bad_request(message: str) -> web.Response:
    return web.json_response({"error": "bad request", "message": message}, status=400)


def translator(request: web.Request) -> Translator:
    return request.app[TRANSLATOR_KEY]


def parse_limit(request: web.Request) -> int:
    raw = request.query.get("limit")
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise BadRequest(_("limit must be a whole number from 1 to {maximum}").format(maximum=MAX_LIMIT))
    return int(raw)


def parse_symbol(request: web.Request, value: str | None, *, name: str = "symbol") -> str | None:
    if value is None or value == "":
        return None
    symbol = value.strip().upper()
    if not SYMBOL_PATTERN.match(symbol):
        raise BadRequest(_("{name} must be a pair such as BTC_USDT").format(name=name))
    return symbol


def parse_moment(request: web.Request, name: str) -> datetime | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise BadRequest(_("{name} must be a date or a date and time (ISO 8601), e.g. 2026-12-01")
                         .format(name=name)) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if not 1970 <= moment.year <= 9999 or moment.utcoffset() is None:
        raise BadRequest(_("{name} is out of range").format(name=name))
    return moment


@web.middleware
async def reader_locale(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The reader's language for everything this request writes (saved choice, Telegram's, the
    default) and their time zone for its times (saved in /settings, else the bot's TIMEZONE)."""
    viewer = request.get(VIEWER_KEY)
    if viewer is not None:
        app = miniapp_of(request)
        language, zone = await app.repository.reader_choices(viewer.user_id)
        translator(request).use(pick_language(language, viewer.language_code, app.config.default_language))
        if zone:
            request[READER_ZONE] = zone
    try:
        return await handler(request)
    except BadRequest as exc:
        return bad_request(str(exc))


class Formats:
    """Numbers, money and times for one reader (Babel through bot/presentation/formatting)."""

    def __init__(self, locale: str, timezone: str) -> None:
        self.locale = locale
        self.timezone = timezone

    def money(self, value: Decimal | None, currency: str = "USD", signed: bool = False) -> str:
        return "—" if value is None else formatting.money(Decimal(value), currency, self.locale, signed=signed)

    def price(self, value: Decimal | None, quote: str = "USD") -> str:
        return "—" if value is None else formatting.price(Decimal(value), quote, self.locale)

    def quantity(self, value: Decimal | None, asset: str = "") -> str:
        if value is None:
            return "—"
        return formatting.quantity(Decimal(value), asset, self.locale) if asset else formatting.number(
            Decimal(value), self.locale)

    def amount(self, value: Decimal | None, asset: str) -> str:
        """A holding's quantity without its unit: exact for a coin, to the cent for cash."""
        return "—" if value is None else formatting.amount(Decimal(value), asset, self.locale)

    def number(self, value: Decimal | float | None, decimals: int | None = None) -> str:
        return "—" if value is None else formatting.number(Decimal(str(value)), self.locale, decimals=decimals)

    def percent(self, value: Decimal | None, signed: bool = False) -> str:
        return "—" if value is None else formatting.percent(Decimal(value), self.locale, signed=signed)

    def when(self, moment: datetime | None) -> str:
        return "—" if moment is None else formatting.when(moment, self.locale, self.timezone)

    def quote_of(self, symbol: str) -> str:
        return formatting.split_symbol(symbol)[1]

    def base_of(self, symbol: str) -> str:
        return formatting.split_symbol(symbol)[0]


def reader_formats(request: web.Request) -> Formats:
    """Formats in the reader's language and time zone."""
    zone = request.get(READER_ZONE) or miniapp_of(request).config.timezone
    return Formats(translator(request).current(), zone)


def render_view(request: web.Request, template: str, context: dict[str, Any]) -> web.Response:
    """A page's data as server-rendered HTML (the page shell fetches it with the reader's initData)."""
    fmt = reader_formats(request)
    context = {**context, "fmt": fmt, "locale": fmt.locale, "mode": miniapp_of(request).config.mode}
    response = aiohttp_jinja2.render_template(template, request, context)
    response.headers["Cache-Control"] = "no-store"
    return response


def viewer_id(request: web.Request) -> int:
    return viewer_of(request).user_id
