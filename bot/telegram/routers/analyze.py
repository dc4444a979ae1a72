"""/analyze SYMBOL: the analysis in words, a chart, and the wider indicator set on demand."""

from __future__ import annotations

from typing import Literal

from aiogram.filters.callback_data import CallbackData


class AnalyzeAction(CallbackData, prefix="an"):
    symbol: str
    view: Literal["brief", "more", "chart"] = "brief"
