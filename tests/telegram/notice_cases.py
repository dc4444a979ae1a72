"""One event of each notification layout, as services publish them (shared by the golden-text tests)."""

from __future__ import annotations

from decimal import Decimal

from bot.domain.events import (
    AutoOrderPlaced,
    AutoOrderRefused,
    Event,
    OcoLegDone,
    OrderCanceled,
    OrderFilled,
    OrderRejected,
    ProtectionFailed,
    ProtectionPlaced,
    SignalChanged,
)
from bot.domain.order_rules import Refusal
from bot.domain.orders import Side
from bot.domain.reasons import Reason
from bot.domain.strategy import StrategyParams, TrackedState, decide

D = Decimal
GROUP = "g-0123456789abcdef0123456789abcd"
BUY_SIGNAL = decide({"rsi": D("28.4"), "ema50": D("96000"), "ema200": D("90000"), "volume_ratio": D("1.3")},
                    D("95000"), TrackedState(), StrategyParams())
SELL_SIGNAL = decide({"rsi": D("74.25"), "ema50": D("3100")}, D("3050"), TrackedState(), StrategyParams())
INDICATORS = (("rsi", "28.4"), ("ema50", "96000"), ("ema200", "90000"), ("macd_hist", "-125.5"),
              ("volume_ratio", "1.3"), ("atr", "1500"))
FULL_REFUSAL = Refusal.of("max_open_per_symbol", count=3, symbol="BTC_USDT", limit=3)

CASES: dict[str, Event] = {
    "buy_filled": OrderFilled(order_id="11", client_oid="manual-1", symbol="ETH_USDT", side=Side.BUY,
                              quantity=D("0.5"), price=D("3000"), partial=False, role="manual"),
    "buy_partly_filled": OrderFilled(order_id="12", client_oid=None, symbol="ETH_USDT", side=Side.BUY,
                                     quantity=D("0.2"), price=D("2999.5"), partial=True, role="entry"),
    "take_profit_partly_filled": OrderFilled(order_id="13", client_oid="tp", symbol="BTC_USDT", side=Side.SELL,
                                             quantity=D("0.004"), price=D("103000"), partial=True,
                                             role="take_profit"),
    "sell_canceled": OrderCanceled(order_id="14", client_oid=None, symbol="ETH_USDT", side=Side.SELL,
                                   quantity=D("1.25"), price=D("3500"), role="manual"),
    "stop_loss_canceled": OrderCanceled(order_id="15", client_oid="sl", symbol="BTC_USDT", side=Side.SELL,
                                        quantity=D("0.01"), price=D("97000"), role="stop_loss", mode="live"),
    "rejected": OrderRejected(order_id="16", client_oid=None, symbol="BTC_USDT", side=Side.SELL,
                              quantity=D("0.5"), reason="306"),
    "protection_placed": ProtectionPlaced(group_id=GROUP, symbol="BTC_USDT", quantity=D("0.01"),
                                          entry_price=D("100000"), stop_loss_price=D("97000"),
                                          take_profit_price=D("103000"), native_oco=True),
    "protection_placed_linked": ProtectionPlaced(group_id=GROUP, symbol="BTC_USDT", quantity=D("0.01"),
                                                 entry_price=D("100000"), stop_loss_price=D("97000"),
                                                 take_profit_price=D("103000"), native_oco=False, mode="live"),
    "take_profit_refused": ProtectionPlaced(
        group_id=GROUP, symbol="BTC_USDT", quantity=D("0.01"), entry_price=D("100000"),
        stop_loss_price=D("97000"), take_profit_price=D("103000"), native_oco=False, take_profit_placed=False,
        problem=Reason.of("take_profit_refused", exchange="INSUFFICIENT_AVAILABLE_BALANCE", code="306")),
    "partly_protected": ProtectionPlaced(
        group_id=GROUP, symbol="BTC_USDT", quantity=D("0.3"), entry_price=D("100000"), stop_loss_price=D("97000"),
        take_profit_price=D("103000"), native_oco=True, wanted_quantity=D("0.5"),
        problem=Reason.of("shortfall_locked", free="0.3", asset="BTC", locked="0.2", orders="4242")),
    "protection_failed": ProtectionFailed(
        group_id=GROUP, symbol="BTC_USDT", wanted_quantity=D("0.5"), protected_quantity=D("0"),
        reason="the exchange refused the protection: 306", reason_key="refused",
        reason_args=(("exchange", "INSUFFICIENT_AVAILABLE_BALANCE"), ("code", "306"))),
    "take_profit_closed": OcoLegDone(group_id=GROUP, symbol="BTC_USDT", leg="take_profit", quantity=D("0.01"),
                                     entry_price=D("100000"), exit_price=D("103000"), pnl=D("29.409927125"),
                                     sibling_canceled=True),
    "stop_loss_closed": OcoLegDone(group_id=GROUP, symbol="BTC_USDT", leg="stop_loss", quantity=D("0.01"),
                                   entry_price=D("100000"), exit_price=D("97000"), pnl=D("-45.209927125"),
                                   sibling_canceled=True, mode="live"),
    "closed_sibling_still_open": OcoLegDone(
        group_id=GROUP, symbol="BTC_USDT", leg="take_profit", quantity=D("0.01"), entry_price=D("100000"),
        exit_price=D("103000"), pnl=D("29.41"), sibling_canceled=False,
        sibling_problem=Reason.of("sibling_not_canceled", order="sl-1", exchange="TOO_MANY_REQUESTS", code="42901")),
    "buy_signal": SignalChanged(symbol="BTC_USDT", decision="BUY", price=D("95000"), reasons=BUY_SIGNAL.reasons,
                                explained=BUY_SIGNAL.explained, indicators=INDICATORS),
    "sell_signal": SignalChanged(symbol="ETH_USDT", decision="SELL", price=D("3050"), reasons=SELL_SIGNAL.reasons,
                                 explained=SELL_SIGNAL.explained, indicators=(("rsi", "74.25"), ("ema50", "3100"))),
    "auto_buy_placed": AutoOrderPlaced(symbol="BTC_USDT", order_id="21", client_oid="auto-1", quantity=D("0.00105"),
                                       price=D("95000"), stop_loss_price=D("92150"), take_profit_price=D("97850"),
                                       explained=BUY_SIGNAL.explained),
    "auto_buy_refused": AutoOrderRefused(symbol="BTC_USDT", rule=FULL_REFUSAL.rule, detail=FULL_REFUSAL.detail,
                                         args=FULL_REFUSAL.args, price=D("95000"), explained=BUY_SIGNAL.explained),
}
