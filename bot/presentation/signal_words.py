"""A coin's stale-data reason (`IndicatorSnapshot.stale_reason`, an English sentence the market
updater words) read back as its key and values, so each reader gets it in their own language.

Each template becomes a pattern (its placeholders capture their values), so a sentence is
recognised exactly when a template produced it; the tests run the producers and fail when one
produces a sentence no template here matches. Anything unrecognised is shown as stored.
(Signal reasons and automatic-order refusals are stored as keys + values: bot.domain.reasons.)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation

from bot.presentation.formatting import number


def N_(text: str) -> str:
    """Marks a template for extraction by pybabel (-k N_)."""
    return text


# The market updater's reasons for not trusting a coin's candles (bot.services.indicators and
# bot.services.signals word them; these templates are theirs, word for word).
STALE_TEMPLATES: dict[str, str] = {
    "too_little_history": N_("too little history: {count} candles, needs {needed}"),
    "gaps": N_("gaps: {missing} missing candles in the last {window}"),
    "zero_volume_recent": N_("zero volume over the last 20 candles"),
    "zero_volume_latest": N_("zero volume on the latest candle"),
    "indicators_undefined": N_("indicators undefined: {names}"),
    "no_market_data": N_("no market data: {detail}"),
    "no_candles": N_("no candles"),
}
TEXT_VALUES = frozenset({"names", "detail", "symbol", "asset", "quote", "exchange", "error", "order", "orders",
                         "code"})


def pattern_of(template: str) -> re.Pattern[str]:
    """`RSI {rsi} > {limit}` -> a pattern capturing `rsi` and `limit` (a repeated placeholder
    must repeat its value)."""
    parts = re.split(r"\{(\w+)\}", template)
    seen: set[str] = set()
    regex = []
    for index, part in enumerate(parts):
        if index % 2 == 0:
            regex.append(re.escape(part))
        elif part in seen:
            regex.append(f"(?P={part})")
        else:
            seen.add(part)
            regex.append(f"(?P<{part}>.+?)")
    return re.compile("".join(regex), re.DOTALL)


STALE_PATTERNS = {key: pattern_of(template) for key, template in STALE_TEMPLATES.items()}


def _match(text: str, patterns: Mapping[str, re.Pattern[str]]) -> tuple[str, dict[str, str]] | None:
    for key, pattern in patterns.items():
        found = pattern.fullmatch(text)
        if found:
            return key, found.groupdict()
    return None


def parse_stale(text: str) -> tuple[str, dict[str, str]] | None:
    return _match(text, STALE_PATTERNS)


def stale_words(text: str, translate: Callable[[str], str], locale: str) -> str:
    """A stale-data reason in the reader's words and digits (plain text: escape it for HTML)."""
    found = parse_stale(text)
    if found is None:
        return text
    key, values = found
    shown = {}
    for name, raw in values.items():
        try:
            shown[name] = raw if name in TEXT_VALUES else number(Decimal(raw), locale)
        except InvalidOperation:
            shown[name] = raw
    return translate(STALE_TEMPLATES[key]).format(**shown)
