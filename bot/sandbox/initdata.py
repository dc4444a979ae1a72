"""Mini App `initData` signed like Telegram signs it, for opening the dashboard outside Telegram.

Telegram hands a Mini App its launch data in the URL fragment (`#tgWebAppData=...`); the page
sends that string back as `Authorization: tma <initData>`. Here the sandbox (or a developer with
the bot's own token, on loopback) plays Telegram's part: same fields, same HMAC-SHA256 with the
key derived from the bot token, so the server validates it exactly as it validates Telegram's.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import quote, urlencode


def sign_init_data(token: str, user_id: int, *, language_code: str | None = None, first_name: str = "Sandbox",
                   auth_date: int | None = None, query_id: str = "sandbox") -> str:
    """The raw initData query string for `user_id`, signed with `token`."""
    user: dict[str, object] = {"id": user_id, "first_name": first_name}
    if language_code:
        user["language_code"] = language_code
    fields = {"auth_date": str(int(time.time()) if auth_date is None else auth_date), "query_id": query_id,
              "user": json.dumps(user, separators=(",", ":"), ensure_ascii=False)}
    check_string = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check_string.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields, quote_via=quote)


def mini_app_url(base_url: str, init_data: str, *, theme: dict[str, str] | None = None) -> str:
    """The dashboard's address with the launch data in the fragment, as Telegram opens it."""
    launch = {"tgWebAppData": init_data, "tgWebAppVersion": "8.0", "tgWebAppPlatform": "sandbox"}
    if theme:
        launch["tgWebAppThemeParams"] = json.dumps(theme, separators=(",", ":"))
    return f"{base_url.rstrip('/')}/app/#{urlencode(launch, quote_via=quote)}"
