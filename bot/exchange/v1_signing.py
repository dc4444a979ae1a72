"""crypto.com Exchange v1 request signing, shared by the simulator (to verify) and the live
adapter's WebSocket auth (to sign). REST requests of the live adapter are signed by ccxt, which
follows the same rule (docs/cryptocom-exchange-v1.md, section 2.2)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any


def param_string(value: Any) -> str:
    """Keys sorted byte-wise, each key followed by its value; lists in their own order, no separators.

    Booleans and nulls are never sent by this project (their text differs between JSON and
    Python, which is the classic way to break a signature); they are rendered as JSON would.
    """
    if isinstance(value, dict):
        return "".join(key + param_string(value[key]) for key in sorted(value))
    if isinstance(value, list):
        return "".join(param_string(item) for item in value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def signature(secret: str, method: str, request_id: Any, api_key: str, params: dict[str, Any] | None,
              nonce: Any) -> str:
    payload = f"{method}{request_id}{api_key}{param_string(params or {})}{nonce}"
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def signature_matches(secret: str, method: str, request_id: Any, api_key: str, params: dict[str, Any] | None,
                      nonce: Any, sig: str) -> bool:
    expected = signature(secret, method, request_id, api_key, params, nonce)
    return hmac.compare_digest(expected, str(sig))
