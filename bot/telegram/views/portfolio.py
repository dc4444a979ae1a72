"""/portfolio as text and buttons: the total and its change, what is unprotected, each balance's value."""

from __future__ import annotations

from typing import Literal

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.portfolio import Position
from bot.services.portfolio_overview import PortfolioOverview
from bot.telegram.views.common import MESSAGE_LIMIT, paginate
from bot.telegram.wording import Reader, esc, mode_tag

PER_PAGE = 20


class PortfolioPage(CallbackData, prefix="pfp"):
    action: Literal["page", "refresh"]
    page: int


def render_portfolio(view: PortfolioOverview, reader: Reader, *, page: int = 0) -> tuple[str, InlineKeyboardMarkup]:
    lines = [f"💼 <b>{esc(reader.gettext('Portfolio'))}</b> · {mode_tag(view.mode, reader)}"]
    if view.taken_at is None:
        lines.append(esc(reader.gettext("Not valued yet: the first sync with the exchange has not finished.")))
        return "\n".join(lines), _keyboard(0, 1, reader)
    lines += total_lines(view, reader)
    paged = paginate([_position_line(p, reader) for p in view.positions], page, per_page=PER_PAGE,
                     budget=MESSAGE_LIMIT - 800)
    lines.append("")
    lines += paged.blocks or [esc(reader.gettext("No balances."))]
    footer = [esc(reader.gettext("as of {time}")).format(time=reader.when(view.taken_at))]
    if paged.pages > 1:
        footer.insert(0, esc(reader.gettext("Page {page} of {pages}")).format(page=paged.page + 1, pages=paged.pages))
    lines += ["", "<i>" + " · ".join(footer) + "</i>"]
    return "\n".join(lines), _keyboard(paged.page, paged.pages, reader)


def total_lines(view: PortfolioOverview, reader: Reader) -> list[str]:
    """The total, its change and the unprotected value (shared with the daily report)."""
    total = reader.money(view.total_usd, "USD")
    if view.unpriced:
        total += " " + esc(reader.gettext("(without {assets}: no price)")).format(assets=esc(", ".join(view.unpriced)))
    lines = [esc(reader.gettext("Total: {total}")).format(total=total)]
    if view.change_usd is not None and view.change_since is not None:
        change = reader.money(view.change_usd, "USD", signed=True)
        if view.change_percent is not None:
            change += f" ({reader.percent(view.change_percent, signed=True)})"
        lines.append(esc(reader.gettext("Change: {change} since {time}")).format(change=change,
                                                                           time=reader.when(view.change_since)))
    else:
        lines.append(esc(reader.gettext("Change: not known yet (no valuation a day old)")))
    risk = reader.money(view.unprotected_usd, "USD")
    if view.unprotected_unpriced:
        risk += " " + reader.text("and {assets} (no price)",
            assets=esc(", ".join(view.unprotected_unpriced)))
    lines.append(("⚠️ " if view.unprotected_usd > 0 or view.unprotected_unpriced else "🛡 ")
                 + esc(reader.gettext("Unprotected: {value}")).format(value=risk))
    return lines


def _position_line(position: Position, reader: Reader) -> str:
    amount = reader.quantity(position.quantity, position.asset)
    if position.usd_value is None or position.price is None:
        return f"<b>{esc(position.asset)}</b> {amount} · {esc(reader.gettext('no price'))}"
    if position.price == 1:
        return f"<b>{esc(position.asset)}</b> {amount} · {reader.money(position.usd_value, 'USD')}"
    return (f"<b>{esc(position.asset)}</b> {amount} × {reader.price(position.price, 'USD')} = "
            f"{reader.money(position.usd_value, 'USD')}")


def _keyboard(page: int, pages: int, reader: Reader) -> InlineKeyboardMarkup:
    row = []
    if page > 0:
        row.append(InlineKeyboardButton(text="◀️", callback_data=PortfolioPage(action="page", page=page - 1).pack()))
    row.append(InlineKeyboardButton(text="🔄 " + reader.gettext("Refresh"),
                                    callback_data=PortfolioPage(action="refresh", page=page).pack()))
    if page + 1 < pages:
        row.append(InlineKeyboardButton(text="▶️", callback_data=PortfolioPage(action="page", page=page + 1).pack()))
    return InlineKeyboardMarkup(inline_keyboard=[row])
