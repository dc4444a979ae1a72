"""Who is asking: Telegram `initData` in `Authorization: tma <initData>`, checked on every /api/ request.

Valid means all three: the HMAC matches the bot token (aiogram's `safe_parse_webapp_init_data`),
`auth_date` is at most 24 h old and not in the future (aiogram checks neither), and the user is in
TELEGRAM_ALLOWED_USERS. Anything else is one 401 with no data, whatever the route, so a caller
cannot tell a forged signature from an expired one or from a stranger.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiogram.utils.web_app import safe_parse_webapp_init_data
from aiohttp import web

log = logging.getLogger(__name__)
MAX_AGE_S = 24 * 3600
# A phone's clock may run a little ahead of ours; more than this is not a clock, it is forged.
FUTURE_SKEW_S = 300
SCHEME = "tma "


@dataclass(frozen=True)
class Viewer:
    user_id: int
    language_code: str | None


@dataclass(frozen=True)
class InitDataVerifier:
    token: str = field(repr=False)
    allowed_users: frozenset[int]
    max_age_s: int = MAX_AGE_S
    clock: Callable[[], float] = time.time

    def verify(self, authorization: str | None) -> Viewer | None:
        if not authorization or not authorization.startswith(SCHEME):
            return None
        raw = authorization[len(SCHEME):].strip()
        try:
            data = safe_parse_webapp_init_data(self.token, raw)
        except (ValueError, TypeError):
            return None
        if data.user is None or data.user.id not in self.allowed_users:
            return None
        age = self.clock() - data.auth_date.timestamp()
        if age > self.max_age_s or age < -FUTURE_SKEW_S:
            return None
        return Viewer(user_id=data.user.id, language_code=data.user.language_code)


VERIFIER_KEY = web.AppKey("initdata_verifier", InitDataVerifier)
VIEWER_KEY = web.RequestKey("viewer", Viewer)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Documents the API's shape only, no data: clients and the fuzzer read it before they hold initData.
PUBLIC_API_PATHS = frozenset({"/api/openapi.json"})


def unauthorized() -> web.Response:
    return web.json_response({"error": "unauthorized"}, status=401,
                             headers={"WWW-Authenticate": 'tma realm="mini-app"'})


@web.middleware
async def require_init_data(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith("/api/") or request.path in PUBLIC_API_PATHS:
        return await handler(request)
    verifier = request.app.get(VERIFIER_KEY)
    viewer = verifier.verify(request.headers.get("Authorization")) if verifier is not None else None
    if viewer is None:
        return unauthorized()
    request[VIEWER_KEY] = viewer
    return await handler(request)


def viewer_of(request: web.Request) -> Viewer:
    viewer: Viewer = request[VIEWER_KEY]
    return viewer
