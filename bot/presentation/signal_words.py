"""The strategy's reasons, the market data's stale reasons and the automatic-order rules, in the
reader's language.

They are stored as English sentences (`SignalRecord.reasons`, `IndicatorSnapshot.stale_reason`,
`AutoOrderDecision.detail`); each sentence shape the code produces is matched here to a template,
its numbers re-formatted for the reader's locale. The tests run the producers (`decide`, the data
checks, the order rules) and fail when a sentence they produce has no shape here. Anything
unrecognised is shown as stored, never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from bot.presentation.formatting import number


def N_(text: str) -> str:
    """Marks a template for extraction by pybabel (-k N_)."""
    return text


_NUM = r"-?\d+(?:\.\d+)?"

REASONS: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), t) for p, t in (
    (rf"RSI (?P<rsi>{_NUM}) > (?P<limit>{_NUM})", N_("RSI {rsi} above {limit}: overbought")),
    (rf"RSI (?P<rsi>{_NUM}) < (?P<limit>{_NUM})", N_("RSI {rsi} below {limit}: oversold")),
    (rf"RSI (?P<rsi>{_NUM}) between (?P<low>{_NUM}) and (?P<high>{_NUM})", N_("RSI {rsi} between {low} and {high}")),
    (rf"price above EMA(?P<period>\d+) \((?P<value>{_NUM})\)", N_("price above EMA{period} ({value})")),
    (rf"price below EMA(?P<period>\d+) \((?P<value>{_NUM})\)", N_("price below EMA{period} ({value})")),
    (rf"volume (?P<ratio>{_NUM})× its 20-candle average < (?P<minimum>{_NUM})×",
     N_("volume {ratio}× its 20-candle average, under {minimum}×")),
    (rf"only (?P<move>{_NUM}) % away from the last BUY at (?P<reference>{_NUM}) \(needs (?P<needed>{_NUM}) %\)",
     N_("only {move} % away from the last BUY at {reference} (needs {needed} %)")),
    (r"indicators unavailable", N_("indicators unavailable")),
))

STALE: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), t) for p, t in (
    (r"too little history: (?P<count>\d+) candles, needs (?P<needed>\d+)",
     N_("too little history: {count} candles, needs {needed}")),
    (r"gaps: (?P<missing>\d+) missing candles in the last (?P<window>\d+)",
     N_("gaps: {missing} missing candles in the last {window}")),
    (r"zero volume over the last 20 candles", N_("zero volume over the last 20 candles")),
    (r"zero volume on the latest candle", N_("zero volume on the latest candle")),
    (r"indicators undefined: (?P<names>.+)", N_("indicators undefined: {names}")),
    (r"no market data: (?P<detail>.*)", N_("no market data: {detail}")),
    (r"no candles", N_("no candles")),
))

# Rule -> (pattern over the stored detail, template); a rule whose detail does not match gets its
# template without values when it needs none, else the stored detail.
REFUSALS: dict[str, tuple[re.Pattern[str] | None, str]] = {
    "trade_disabled": (None, N_("Trade is off for this coin")),
    "max_open_per_symbol": (re.compile(r"(?P<count>\d+) open buy orders on \S+ \(limit (?P<limit>\d+)\)"),
                            N_("{count} open buys already (at most {limit})")),
    "duplicate_price": (re.compile(rf"already at (?P<price>{_NUM})"), N_("an open buy is already at {price}")),
    "min_price_move": (re.compile(rf"price moved (?P<move>{_NUM}) % after the last order at "
                                  rf"(?P<reference>{_NUM}) \(needs (?P<needed>{_NUM}) %\)"),
                       N_("price moved only {move} % after the last order at {reference} (needs {needed} %)")),
    "insufficient_balance": (re.compile(rf"needs (?P<needed>{_NUM}) (?P<quote>\w+), free (?P<free>{_NUM}) \w+"),
                             N_("not enough balance: needs {needed} {quote}, {free} {quote} free")),
    "amount_too_small": (None, N_("the amount buys less than one quantity step")),
    "exchange_refused": (re.compile(r"(?P<detail>.*)"), N_("the exchange refused the order: {detail}")),
    "exchange_unavailable": (None, N_("the exchange did not answer")),
}
_TEXT_VALUES = {"names", "detail", "quote", "period"}


def _localise(values: dict[str, str], locale: str) -> dict[str, str]:
    out = {}
    for name, raw in values.items():
        if name in _TEXT_VALUES:
            out[name] = raw
            continue
        try:
            out[name] = number(Decimal(raw), locale)
        except InvalidOperation:
            out[name] = raw
    return out


def _match(text: str, shapes: tuple[tuple[re.Pattern[str], str], ...],
           translate: Callable[[str], str], locale: str) -> str:
    for pattern, template in shapes:
        found = pattern.fullmatch(text)
        if found:
            return translate(template).format(**_localise(found.groupdict(), locale))
    return text


def reason_words(reason: str, translate: Callable[[str], str], locale: str) -> str:
    return _match(reason, REASONS, translate, locale)


def stale_words(reason: str, translate: Callable[[str], str], locale: str) -> str:
    return _match(reason, STALE, translate, locale)


def refusal_words(rule: str | None, detail: str, translate: Callable[[str], str], locale: str) -> str:
    pattern, template = REFUSALS.get(rule or "", (None, ""))
    if not template:
        return detail or (rule or "")
    if pattern is None:
        return translate(template)
    found = pattern.search(detail)
    if found is None:
        return detail
    return translate(template).format(**_localise(found.groupdict(), locale))


def recognised(text: str, shapes: tuple[tuple[re.Pattern[str], str], ...]) -> bool:
    """Whether `text` has one of `shapes` (the tests hold the producers to these)."""
    return any(p.fullmatch(text) for p, _ in shapes)
