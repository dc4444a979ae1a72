"""/orders as text and buttons: OCO groups, orders outside groups, unprotected positions, in pages.

Every item is numbered across pages; its buttons (cancel a group or an order, protect a position)
carry the same number, so the reader knows which line a button acts on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.presentation.formatting import split_symbol
from bot.services.orders_overview import GroupLine, OrderLine, OrdersOverview, PositionLine
from bot.telegram.callbacks import ProtectCallback
from bot.telegram.views import labels
from bot.telegram.views.actions import CancelGroupPress, CancelOrderPress, callback_or_none
from bot.telegram.views.common import MESSAGE_LIMIT, page_span
from bot.telegram.wording import Reader, esc, mode_tag

PER_PAGE = 8
# Room left for the header and the footer around the page's blocks.
BLOCKS_BUDGET = MESSAGE_LIMIT - 600


class OrdersPage(CallbackData, prefix="ordp"):
    action: Literal["page", "refresh"]
    page: int


# Upper bounds of a block's length, to page a long list without rendering what is not shown.
GROUP_SIZE, ISSUE_SIZE, ORDER_SIZE, POSITION_SIZE = 360, 240, 260, 220


@dataclass(frozen=True)
class _Item:
    section: str           # "groups" | "loose" | "unprotected"
    value: GroupLine | OrderLine | PositionLine
    size: int


def render_orders(view: OrdersOverview, reader: Reader, *, page: int = 0,
                  as_of: datetime | None = None) -> tuple[str, InlineKeyboardMarkup]:
    items = [_Item("groups", g, GROUP_SIZE + ISSUE_SIZE * len(g.issues)) for g in view.groups]
    items += [_Item("loose", o, ORDER_SIZE) for o in view.loose]
    items += [_Item("unprotected", p, POSITION_SIZE) for p in view.unprotected]
    budget = BLOCKS_BUDGET - ISSUE_SIZE * len(view.other_issues)
    span = page_span([item.size for item in items], page, per_page=PER_PAGE, budget=budget)
    lines = [f"📋 <b>{esc(reader.gettext('Open orders'))}</b> · {mode_tag(view.mode, reader)}", _summary(view, reader)]
    section = None
    buttons: list[InlineKeyboardButton] = []
    for number, item in enumerate(items[span.start:span.end], start=span.start + 1):
        if item.section != section:
            section = item.section
            lines += ["", _section_title(section, reader)]
        block, button = _block(number, item.value, reader)
        lines.append(block)
        if button is not None:
            buttons.append(button)
        if isinstance(item.value, GroupLine) and _lone_stop_loss(item.value):
            # Its take-profit was refused: Protect previews replacing the lone stop-loss by a full protection.
            label = "🛡 " + f"{number} · " + reader.gettext("Complete protection")
            complete = _button(label, ProtectCallback(symbol=item.value.symbol, group=item.value.group_id))
            if complete is not None:
                buttons.append(complete)
    if not items:
        lines += ["", esc(reader.gettext("No open orders, and nothing is unprotected."))]
    lines += other_issue_lines(view, reader)
    lines += ["", _footer(view, span.page, span.pages, reader, as_of)]
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    rows.append(_navigation(span.page, span.pages, reader))
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


def _block(number: int, value: GroupLine | OrderLine | PositionLine,
           reader: Reader) -> tuple[str, InlineKeyboardButton | None]:
    """An item's lines, and its button (cancel the group or the order, protect the position)."""
    if isinstance(value, GroupLine):
        button = _button(f"✖️ {number} · " + reader.gettext("Cancel group"), CancelGroupPress(group_id=value.group_id)) \
            if _has_open_leg(value) else None
        return _group_block(number, value, reader), button
    if isinstance(value, OrderLine):
        return _order_block(number, value, reader), _button(f"✖️ {number} · " + reader.gettext("Cancel order"),
                                                             CancelOrderPress(order_id=value.order_id))
    label = reader.gettext("Protect {asset}").format(asset=value.asset)
    return position_block(number, value, reader), _button(f"🛡 {number} · {label}", ProtectCallback(symbol=value.asset))


def other_issue_lines(view: OrdersOverview, reader: Reader) -> list[str]:
    if not view.other_issues:
        return []
    title = esc(reader.gettext("Other problems"))
    return ["", f"<b>{title}</b>", *(labels.issue(i, reader) for i in view.other_issues)]


def _summary(view: OrdersOverview, reader: Reader) -> str:
    parts = [
        reader.ngettext("{n} OCO group", "{n} OCO groups", len(view.groups)).format(n=len(view.groups)),
        reader.ngettext("{n} order outside groups", "{n} orders outside groups", len(view.loose)).format(
            n=len(view.loose)),
        reader.ngettext("{n} unprotected position", "{n} unprotected positions", len(view.unprotected)).format(
            n=len(view.unprotected)),
    ]
    text = " · ".join(esc(p) for p in parts)
    if view.issues:
        text += " · ⚠️ " + esc(reader.ngettext("{n} problem", "{n} problems", view.issues).format(n=view.issues))
    return text


def _section_title(section: str, reader: Reader) -> str:
    titles = {"groups": "🛡 " + reader.gettext("OCO groups"), "loose": "📄 " + reader.gettext("Orders outside groups"),
              "unprotected": "⚠️ " + reader.gettext("Unprotected positions")}
    return f"<b>{esc(titles[section])}</b>"


def _group_block(number: int, group: GroupLine, reader: Reader) -> str:
    base, quote = split_symbol(group.symbol)
    kind = reader.gettext("native OCO") if group.native else reader.gettext("linked legs")
    head = f"<b>{number}. {esc(group.symbol)}</b> · {reader.quantity(group.quantity, base)} · {esc(kind)}"
    if group.state == "placing":
        head += " · " + esc(reader.gettext("being placed"))
    now = reader.price(group.current_price, quote) if group.current_price is not None else "—"
    pnl = reader.money(group.unrealised_pnl, quote, signed=True) if group.unrealised_pnl is not None else "—"
    lines = [head,
             f"{esc(reader.gettext('entry'))} {reader.price(group.entry_price, quote)} · "
             f"{esc(reader.gettext('now'))} {now} · {esc(reader.gettext('P/L'))} {pnl}",
             f"🔻 SL {reader.price(group.stop_loss_price, quote)} · "
             f"🎯 TP {reader.price(group.take_profit_price, quote)}"]
    lines += [labels.issue(issue, reader) for issue in group.issues]
    return "\n".join(lines)


def _order_block(number: int, order: OrderLine, reader: Reader) -> str:
    base, quote = split_symbol(order.symbol)
    level = order.price if order.price is not None else order.trigger_price
    at = f" @ {reader.price(level, quote)}" if level is not None else ""
    now = f" · {esc(reader.gettext('now'))} {reader.price(order.current_price, quote)}" if order.current_price else ""
    head = (f"<b>{number}. {esc(order.symbol)}</b> {labels.side(order.side, reader)} "
            f"{labels.order_type(order.order_type, reader)} {reader.quantity(order.remaining, base)}{at}{now}")
    since = f" · {esc(reader.gettext('since'))} {reader.when(order.created_at)}" if order.created_at else ""
    return f"{head}\n#{esc(order.order_id)}{since}"


def position_block(number: int, position: PositionLine, reader: Reader) -> str:
    if position.value_at_risk_usd is not None:
        risk = f"{esc(reader.gettext('at risk'))} {reader.money(position.value_at_risk_usd, 'USD')}"
    else:
        risk = esc(reader.gettext("no price: value at risk unknown"))
    since = reader.when(position.since) if position.since is not None else "—"
    return (f"<b>{number}. {esc(position.asset)}</b> {reader.quantity(position.quantity, position.asset)} · "
            f"{risk} · {esc(reader.gettext('since'))} {since}")


def _footer(view: OrdersOverview, page: int, pages: int, reader: Reader, as_of: datetime | None) -> str:
    parts = [esc(reader.gettext("Page {page} of {pages}")).format(page=page + 1, pages=pages)] if pages > 1 else []
    if not view.prices_known:
        parts.append(esc(reader.gettext("no current prices: the exchange is not answering")))
    elif as_of is not None:
        parts.append(esc(reader.gettext("prices as of {time}")).format(time=reader.when(as_of)))
    return "<i>" + " · ".join(parts) + "</i>" if parts else ""


def _navigation(page: int, pages: int, reader: Reader) -> list[InlineKeyboardButton]:
    row = []
    if page > 0:
        row.append(InlineKeyboardButton(text="◀️", callback_data=OrdersPage(action="page", page=page - 1).pack()))
    row.append(InlineKeyboardButton(text="🔄 " + reader.gettext("Refresh"),
                                    callback_data=OrdersPage(action="refresh", page=page).pack()))
    if page + 1 < pages:
        row.append(InlineKeyboardButton(text="▶️", callback_data=OrdersPage(action="page", page=page + 1).pack()))
    return row


def _lone_stop_loss(group: GroupLine) -> bool:
    """Two linked legs of which only the stop-loss stands (the take-profit refused or gone)."""
    open_roles = [leg.role for leg in group.legs if leg.status not in ("FILLED", "CANCELED", "REJECTED", "EXPIRED")]
    return group.state == "active" and not group.native and open_roles == ["stop_loss"] and not any(
        leg.filled > 0 for leg in group.legs)


def _has_open_leg(group: GroupLine) -> bool:
    return any(leg.status not in ("FILLED", "CANCELED", "REJECTED", "EXPIRED") for leg in group.legs)


def _button(text: str, data: CallbackData) -> InlineKeyboardButton | None:
    packed = callback_or_none(data)
    return None if packed is None else InlineKeyboardButton(text=text, callback_data=packed)
