"""Words for the exchange's vocabulary (sides, order types, roles) and for OCO problems, per reader."""

from __future__ import annotations

from bot.domain.oco_health import Issue
from bot.presentation.oco_problems import issue_words
from bot.telegram.wording import Reader, esc


def N_(text: str) -> str:
    """Marks a word for extraction by pybabel; translated where it is shown."""
    return text


SIDES = {"BUY": N_("buy"), "SELL": N_("sell")}
ORDER_TYPES = {
    "LIMIT": N_("limit"), "MARKET": N_("market"), "STOP_LOSS": N_("stop-loss"), "STOP_LIMIT": N_("stop-limit"),
    "TAKE_PROFIT": N_("take-profit"), "TAKE_PROFIT_LIMIT": N_("take-profit limit"),
}
ROLES = {"stop_loss": N_("stop-loss"), "take_profit": N_("take-profit")}


def side(value: str, reader: Reader) -> str:
    return esc(reader.gettext(SIDES[value]) if value in SIDES else value)


def order_type(value: str, reader: Reader) -> str:
    return esc(reader.gettext(ORDER_TYPES[value]) if value in ORDER_TYPES else value)


def role(value: str, reader: Reader) -> str:
    return esc(reader.gettext(ROLES[value]) if value in ROLES else value)


def issue(item: Issue, reader: Reader) -> str:
    """One OCO problem in the reader's words, naming the orders involved (escaped)."""
    return "⚠️ " + esc(issue_words(item, reader.gettext))
