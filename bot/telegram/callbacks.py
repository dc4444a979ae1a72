"""Button payloads shared by several features: a notification, /orders and the daily report all
offer the same Protect button, and one router (the orders feature's) answers it.

Telegram limits callback data to 64 bytes: `protect:<symbol>:<group id>` is at most about 55
(group ids are `g-` + 30 hex digits; symbols are short).
"""

from __future__ import annotations

from typing import Literal

from aiogram.filters.callback_data import CallbackData


class ProtectCallback(CallbackData, prefix="protect"):
    """Open the Protect preview (exact quantity, stop and target, mode), then Confirm / Cancel.

    `group` set: complete that OCO group's protection (e.g. the take-profit the exchange refused
    while its stop-loss stands); empty: protect what of `symbol` is held but not covered."""

    symbol: str
    group: str = ""


class AnalyzeCallback(CallbackData, prefix="an"):
    """/analyze for a coin (from /watchlist, /signals, the analysis itself): `brief` sends the chart
    and the analysis in words; `refresh` and `more` (with the wider indicator set) show the analysis
    again in place; `chart` sends the chart again."""

    symbol: str
    view: Literal["brief", "refresh", "more", "chart"] = "brief"
