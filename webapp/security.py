"""Headers every answer carries, and the guard that turns a failure into an answer without details.

The Mini App runs inside Telegram's clients: the native apps load it in a web view, the web
clients (web.telegram.org/k and /a) in an iframe, so `frame-ancestors` names them and nobody else.
Scripts come from this server only, plus Telegram's own web-app script when the page runs inside
Telegram; no inline script or style is needed, so none is allowed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

log = logging.getLogger(__name__)
TELEGRAM_SCRIPT = "https://telegram.org/js/telegram-web-app.js"
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self' https://telegram.org",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'self' https://web.telegram.org https://*.telegram.org",
])
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
# Request bodies are small JSON edits (a watchlist row, a confirmation): anything larger is refused
# before it is read (413).
MAX_BODY_BYTES = 16 * 1024
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        response = exc
    if not response.prepared:          # a stream (server-sent events) set its own before it started
        apply_headers(request, response)
    if isinstance(response, web.HTTPException):
        raise response
    return response


def apply_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.update(SECURITY_HEADERS)
    if request.path.startswith("/api/"):
        # Account data is never kept by a browser or a proxy.
        response.headers["Cache-Control"] = "no-store"


@web.middleware
async def errors_as_json(request: web.Request, handler: Handler) -> web.StreamResponse:
    """API errors as `{"error": ...}`; an unexpected failure is logged here and answered without its details."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if request.path.startswith("/api/") and exc.status >= 400 and exc.content_type != "application/json":
            return web.json_response({"error": exc.reason.lower()}, status=exc.status)
        raise
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        if request.path.startswith("/api/"):
            return web.json_response({"error": "internal error"}, status=500)
        raise
