"""OCO problems in the reader's words: one wording for the chat, the daily report and the Mini App
(the health check's own `detail` is an English line for the logs)."""

from __future__ import annotations

from collections.abc import Callable

from bot.domain.oco_health import Issue


def N_(text: str) -> str:
    """Marks a message for extraction by pybabel; translated where it is shown."""
    return text


ORPHAN = N_("orphan leg {orders} on {symbol}: it belongs to no open group")
ONE_LEG_LEFT = N_("incomplete: only {orders} is open, the other leg is missing")
NO_LEG_LEFT = N_("incomplete: no leg of this group is open on the exchange")
LEG_SHORT = N_("quantity mismatch: {orders} does not cover the group's quantity")
OVER_HELD = N_("quantity mismatch on {symbol}: the protection covers more than is held")
BOTH_FILLED = N_("both legs filled: the position was sold twice")


def issue_words(item: Issue, gettext: Callable[[str], str]) -> str:
    """The problem as plain text in the language of `gettext` (escape it where it goes into HTML)."""
    if item.kind == "orphan_leg":
        template = ORPHAN
    elif item.kind == "incomplete_group":
        template = ONE_LEG_LEFT if len(item.order_ids) == 1 else NO_LEG_LEFT
    elif item.kind == "quantity_mismatch":
        template = LEG_SHORT if item.order_ids else OVER_HELD
    elif item.kind == "both_filled":
        template = BOTH_FILLED
    else:
        return item.detail
    orders = ", ".join(f"#{order_id}" for order_id in item.order_ids)
    return gettext(template).format(orders=orders, symbol=item.symbol)
