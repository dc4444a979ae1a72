"""Why something happened (a protection not fully placed, a signal, an automatic order refused),
as a key and its values, so every user reads it in their own language. The English templates
double as the gettext message ids (the notifier translates them); `text` is the English rendering
kept in logs and in the database. Numbers in the values are plain decimal strings, so a reader's
locale can format them."""

from __future__ import annotations

from dataclasses import dataclass
from string import Formatter


def N_(text: str) -> str:
    """Marks a template for extraction by pybabel (-k N_)."""
    return text


TEMPLATES: dict[str, str] = {
    "shortfall_locked": N_("only {free} {asset} free: {locked} {asset} already locked by open sell orders "
                           "({orders})"),
    "shortfall_free": N_("only {free} {asset} free of {wanted} bought"),
    "below_minimum": N_("{quantity} {asset} at {price} is below the exchange's minimum order of {minimum} "
                        "{quote}"),
    "partly_protected": N_("only {protected} of {wanted} {asset} could be protected: the rest is not free "
                           "(locked by other sell orders or already sold)"),
    "no_fill_price": N_("the buy has no fill price to put the stop-loss and take-profit around"),
    "nothing_to_protect": N_("nothing to protect"),
    "refused": N_("the exchange refused the protection: {exchange}"),
    "stop_loss_refused": N_("the stop-loss was refused: {exchange}"),
    "take_profit_refused": N_("the take-profit was refused ({exchange}); only the stop-loss protects this "
                              "position"),
    "sibling_not_canceled": N_("one leg filled but the other ({order}) could not be canceled: {exchange}; "
                               "it is retried at the next sync"),
    "stop_loss_not_reduced": N_("the stop-loss could not be reduced to {quantity}: {exchange}"),
    "take_profit_not_reduced": N_("the take-profit could not be reduced to {quantity}: {exchange}"),
    # Why the strategy decided (bot.domain.strategy).
    "indicators_unavailable": N_("indicators unavailable"),
    "rsi_above": N_("RSI {rsi} > {limit}"),
    "rsi_below": N_("RSI {rsi} < {limit}"),
    "rsi_between": N_("RSI {rsi} between {low} and {high}"),
    "price_above_ema50": N_("price above EMA50 ({ema})"),
    "price_below_ema50": N_("price below EMA50 ({ema})"),
    "price_above_ema200": N_("price above EMA200 ({ema})"),
    "price_below_ema200": N_("price below EMA200 ({ema})"),
    "low_volume": N_("volume {ratio}× its 20-candle average < {minimum}×"),
    "too_close_to_last_buy": N_("only {move} % away from the last BUY at {reference} (needs {needed} %)"),
    # Why an automatic order was not placed (bot.domain.order_rules, bot.services.auto_orders).
    "trade_disabled": N_("Trade is NO for {symbol}"),
    "max_open_per_symbol": N_("{count} open buy orders on {symbol} (limit {limit})"),
    "duplicate_price": N_("an open buy on {symbol} is already at {price}"),
    "min_price_move": N_("price moved {move} % after the last order at {last} (needs {needed} %)"),
    "insufficient_balance": N_("needs {needed} {quote}, free {free} {quote}"),
    "amount_too_small": N_("{amount} buys less than one quantity step"),
    "exchange_refused": N_("the exchange refused the order: {exchange}"),
    "exchange_unavailable": N_("the exchange did not answer: {error}"),
}


@dataclass(frozen=True)
class Reason:
    key: str
    args: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, key: str, **args: object) -> Reason:
        if key not in TEMPLATES:
            raise KeyError(f"no reason template {key!r}")
        return cls(key, tuple((name, str(value)) for name, value in args.items()))

    @property
    def values(self) -> dict[str, str]:
        return dict(self.args)

    def stored(self) -> dict[str, object]:
        """As kept in a JSON column."""
        return {"key": self.key, "values": self.values}

    @classmethod
    def from_stored(cls, raw: object) -> Reason | None:
        """Back from a JSON column; None for anything its template cannot word (a key since removed,
        a value missing: a row from before the values were kept)."""
        if not isinstance(raw, dict) or raw.get("key") not in TEMPLATES or not isinstance(raw.get("values"), dict):
            return None
        key, values = str(raw["key"]), {str(name): str(value) for name, value in raw["values"].items()}
        needed = {name for _, name, _, _ in Formatter().parse(TEMPLATES[key]) if name}
        return cls(key, tuple(values.items())) if needed <= values.keys() else None

    @property
    def text(self) -> str:
        return TEMPLATES[self.key].format(**self.values)
