"""Every message layout of /orders, /portfolio, /start, /help, the actions and the daily report, in
Spanish and English, compared with its golden text (tests/telegram/golden/). Pure rendering: fixed
data, no Telegram. `UPDATE_GOLDEN=1` rewrites the files (then read the diff before committing)."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aiogram.types import InlineKeyboardMarkup

from bot.domain.actions import (
    ActionKind,
    ActionPreview,
    ActionResult,
    CancelDetails,
    OrderToCancel,
    Outcome,
    ProtectDetails,
)
from bot.domain.oco_health import Issue
from bot.domain.portfolio import Position
from bot.services.daily_report import DailyReport, DueReport, ReportHealth
from bot.services.orders_overview import GroupLine, OrderLine, OrdersOverview, PositionLine
from bot.services.portfolio_overview import PortfolioOverview
from bot.telegram.notices.model import Notice
from bot.telegram.setup import build_i18n
from bot.telegram.views.actions import render_preview, render_result
from bot.telegram.views.daily_report import render_daily_report
from bot.telegram.views.menu import render_help, render_start
from bot.telegram.views.orders import render_orders
from bot.telegram.views.portfolio import render_portfolio
from bot.telegram.wording import Reader
from tests.telegram.harness import assert_valid_html

D = Decimal
GOLDEN = Path(__file__).parent / "golden"
I18N = build_i18n("es")
AT = datetime(2026, 12, 7, 7, 5, tzinfo=UTC)
CREATED = datetime(2026, 12, 6, 21, 30, tzinfo=UTC)


def order(order_id: str, role: str, side: str, kind: str, quantity: str, *, price: str | None = None,
          trigger: str | None = None, symbol: str = "BTC_USDT", current: str | None = "101000") -> OrderLine:
    return OrderLine(order_id=order_id, client_oid=None, symbol=symbol, side=side, order_type=kind,
                     status="PENDING" if trigger else "ACTIVE", role=role, quantity=D(quantity), filled=D(0),
                     price=None if price is None else D(price), trigger_price=None if trigger is None else D(trigger),
                     created_at=CREATED, current_price=None if current is None else D(current))


ISSUE = Issue("incomplete_group", "ETH_USDT", "g-eth", ("7002",), "take-profit leg missing")
ORDERS = OrdersOverview(
    mode="live",
    groups=(
        GroupLine(group_id="g-btc", symbol="BTC_USDT", state="active", native=True, quantity=D("0.01"),
                  entry_price=D(100000), stop_loss_price=D(97000), take_profit_price=D(103000),
                  legs=(order("7000", "stop_loss", "SELL", "STOP_LOSS", "0.01", trigger="97000"),
                        order("7001", "take_profit", "SELL", "LIMIT", "0.01", price="103000")),
                  current_price=D(101000), unrealised_pnl=D(10), issues=()),
        GroupLine(group_id="g-eth", symbol="ETH_USDT", state="active", native=False, quantity=D("1.5"),
                  entry_price=D("3500.5"), stop_loss_price=D("3395.48"), take_profit_price=D("3605.52"),
                  legs=(order("7002", "stop_loss", "SELL", "STOP_LOSS", "1.5", trigger="3395.48", symbol="ETH_USDT",
                              current="3400"),),
                  current_price=D(3400), unrealised_pnl=D("-150.75"), issues=(ISSUE,)),
    ),
    loose=(order("7100", "manual", "BUY", "LIMIT", "0.02", price="50000"),
           order("7101", "manual", "SELL", "LIMIT", "100", price="0.25", symbol="<ODD&>_USDT", current=None)),
    unprotected=(PositionLine("BTC", D("0.5"), D(101000), D(50500), CREATED),
                 PositionLine("XYZ", D(12), None, None, None)),
    other_issues=(Issue("orphan_leg", "SOL_USDT", None, ("7200",), "stop_loss order 7200 belongs to no known group"),),
    prices_known=True,
)
PORTFOLIO = PortfolioOverview(
    mode="paper", taken_at=AT, total_usd=D("150507.5"),
    positions=(Position("USDT", D("98997.5"), D(1), D("98997.5")), Position("BTC", D("0.51"), D(101000), D(51510)),
               Position("XYZ", D(12), None, None)),
    change_usd=D("257.5"), change_since=datetime(2026, 12, 6, 7, 5, tzinfo=UTC), unprotected_usd=D(50500),
    unprotected_unpriced=("XYZ",))
PROTECT = ProtectDetails(symbol="BTC_USDT", base="BTC", quote="USDT", quantity=D("0.5"), unprotected=D("0.5"),
                         stop_loss=D("97970"), take_profit=D("104030"), stop_loss_percent=D(3),
                         take_profit_percent=D(3), reference_price=D(101000), reference="market", native_oco=True)
PROTECT_SHORT = ProtectDetails(symbol="ETH_USDT", base="ETH", quote="USDT", quantity=D("0.4"), unprotected=D(1),
                               stop_loss=D("3325"), take_profit=D("3850"), stop_loss_percent=D(5),
                               take_profit_percent=D(10), reference_price=D(3500), reference="entry", native_oco=False,
                               shortfall_key="shortfall_locked", shortfall_args=(
                                   ("free", "0.4"), ("asset", "ETH"), ("locked", "0.6"), ("orders", "7300")))
CANCEL_GROUP = CancelDetails(symbol="BTC_USDT", base="BTC", quote="USDT", group_id="g-btc", native_list_id="L1",
                             leaves="unprotected", group_quantity=D("0.01"), orders=(
                                 OrderToCancel("7000", None, "SELL", "STOP_LOSS", "stop_loss", D("0.01"), None,
                                               D(97000)),
                                 OrderToCancel("7001", None, "SELL", "LIMIT", "take_profit", D("0.01"), D(103000),
                                               None)))
CANCEL_LEG = CancelDetails(symbol="ETH_USDT", base="ETH", quote="USDT", group_id="g-eth", leaves="one_leg",
                           orders=(OrderToCancel("7002", None, "SELL", "STOP_LOSS", "stop_loss", D("1.5"), None,
                                                 D("3395.48")),))
CANCEL_ORDER = CancelDetails(symbol="BTC_USDT", base="BTC", quote="USDT", orders=(
    OrderToCancel("7100", None, "BUY", "LIMIT", "manual", D("0.02"), D(50000), None),))


def preview(kind: ActionKind, mode: str = "live", **details: Any) -> ActionPreview:
    return ActionPreview("a-0123456789abcdef0123", kind, mode, 4242, datetime(2026, 12, 7, 7, 10, tzinfo=UTC),
                         **details)


PREVIEWS = {
    "preview_protect_live": preview(ActionKind.PROTECT, protect=PROTECT),
    "preview_protect_paper_shortfall": preview(ActionKind.PROTECT, "paper", protect=PROTECT_SHORT),
    "preview_cancel_group": preview(ActionKind.CANCEL_GROUP, cancel=CANCEL_GROUP),
    "preview_cancel_leg": preview(ActionKind.CANCEL_ORDER, cancel=CANCEL_LEG),
    "preview_cancel_order": preview(ActionKind.CANCEL_ORDER, "paper", cancel=CANCEL_ORDER),
}
RESULTS = {
    "result_protected": ActionResult(Outcome.DONE, PREVIEWS["preview_protect_live"], native_oco=True,
                                     group_id="a-0123456789abcdef0123"),
    "result_protected_again": ActionResult(Outcome.ALREADY_DONE, PREVIEWS["preview_protect_live"], native_oco=False),
    "result_group_canceled": ActionResult(Outcome.DONE, PREVIEWS["preview_cancel_group"], canceled=("7000", "7001")),
    "result_failed": ActionResult(Outcome.FAILED, PREVIEWS["preview_protect_live"], reason_key="refused",
                                  reason_args=(("exchange", "not enough free balance"), ("code", "306"))),
    "result_unconfirmed": ActionResult(Outcome.UNCONFIRMED, PREVIEWS["preview_cancel_order"],
                                       reason_key="exchange_unavailable", reason_args=(("exchange", "timeout"),)),
    "result_expired": ActionResult(Outcome.EXPIRED, PREVIEWS["preview_protect_live"]),
    "result_in_progress": ActionResult(Outcome.IN_PROGRESS, PREVIEWS["preview_protect_live"]),
    "result_dismissed": ActionResult(Outcome.DISMISSED, PREVIEWS["preview_cancel_order"]),
    "result_foreign": ActionResult(Outcome.FOREIGN),
}
REPORT = DailyReport(DueReport(4242, date(2026, 12, 7), None, "Europe/Madrid"), ORDERS,
                     PORTFOLIO, ReportHealth(mode="live", last_sync=AT, exchange_reachable=False,
                                             stale_coins=("DOGE_USDT", "XRP_USDT")))


def layouts(reader: Reader) -> dict[str, tuple[str, InlineKeyboardMarkup | Notice | None]]:
    out: dict[str, tuple[str, InlineKeyboardMarkup | Notice | None]] = {
        "orders": render_orders(ORDERS, reader, as_of=AT),
        "orders_empty": render_orders(OrdersOverview("paper", (), (), (), (), False), reader, as_of=AT),
        "portfolio": render_portfolio(PORTFOLIO, reader),
        "start": render_start("Ana <3", "paper", reader),
        "help": (render_help(reader), None),
    }
    for name, item in PREVIEWS.items():
        out[name] = render_preview(item, reader)
    for name, result in RESULTS.items():
        out[name] = (render_result(result, reader), None)
    notice = render_daily_report(REPORT, reader)
    out["daily_report"] = (notice.text, notice)
    return out


def as_text(text: str, keyboard: InlineKeyboardMarkup | Notice | None) -> str:
    rows: list[list[str]] = []
    if isinstance(keyboard, InlineKeyboardMarkup):
        rows = [[f"[{b.text} | {b.callback_data}]" for b in row] for row in keyboard.inline_keyboard]
    elif isinstance(keyboard, Notice):
        rows = [[f"[{b.text} | {b.callback_data}]" for b in row] for row in keyboard.buttons]
    return text + "\n" + "\n".join(" ".join(row) for row in rows) + "\n"


NAMES = sorted(layouts(Reader(I18N, "en", "Europe/Madrid")))


@pytest.mark.parametrize("language", ["es", "en"])
@pytest.mark.parametrize("name", NAMES)
def test_layout_matches_its_golden_text(name: str, language: str) -> None:
    text, keyboard = layouts(Reader(I18N, language, "Europe/Madrid"))[name]
    assert_valid_html(text)
    rendered = as_text(text, keyboard)
    path = GOLDEN / f"{name}.{language}.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(rendered, encoding="utf-8")
    assert path.exists(), f"no golden text {path.name}: run with UPDATE_GOLDEN=1 and review it"
    assert rendered == path.read_text(encoding="utf-8")


def test_spanish_and_english_layouts_differ_only_in_words() -> None:
    """Each layout has the same lines and buttons in both languages (the words and digits differ)."""
    es, en = layouts(Reader(I18N, "es", "UTC")), layouts(Reader(I18N, "en", "UTC"))
    for name in NAMES:
        assert es[name][0].count("\n") == en[name][0].count("\n"), name
        assert as_text(*es[name]).count("[") == as_text(*en[name]).count("["), name
        if name not in ("result_foreign",):
            assert es[name][0] != en[name][0], name
