"""A coin's indicators read in words: what the trend, momentum, bands and volume say (the brief),
and what the wider set says (ADX, Stochastic RSI, OBV, Supertrend, Ichimoku).

Pure: values in, findings out. A finding is a template key and its values; the English templates
double as the gettext message ids (extracted with -k N_) and are worded at the edge. A value that
is missing (too little history for EMA200, say) drops its finding instead of guessing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from bot.domain.money import plain


def N_(text: str) -> str:
    """Marks a template for extraction by pybabel (-k N_)."""
    return text


TEMPLATES: dict[str, str] = {
    # trend
    "uptrend": N_("Uptrend: the price is above EMA50 ({ema50}) and EMA200 ({ema200}), and EMA50 is above EMA200"),
    "downtrend": N_("Downtrend: the price is below EMA50 ({ema50}) and EMA200 ({ema200}), and EMA50 is below "
                    "EMA200"),
    "pullback": N_("Pullback in an uptrend: the price is below EMA50 ({ema50}) but above EMA200 ({ema200})"),
    "rebound": N_("Rebound in a downtrend: the price is above EMA50 ({ema50}) but below EMA200 ({ema200})"),
    "recovering": N_("Recovering: the price is above EMA50 ({ema50}) and EMA200 ({ema200}), but EMA50 is still "
                     "below EMA200"),
    "weakening": N_("Weakening: the price is below EMA50 ({ema50}) and EMA200 ({ema200}), but EMA50 is still "
                    "above EMA200"),
    "short_trend_up": N_("Price above EMA50 ({ema50}); not enough history for EMA200"),
    "short_trend_down": N_("Price below EMA50 ({ema50}); not enough history for EMA200"),
    # momentum
    "rsi_oversold": N_("RSI {rsi}: oversold (under 30)"),
    "rsi_overbought": N_("RSI {rsi}: overbought (over 70)"),
    "rsi_neutral": N_("RSI {rsi}: neutral (between 30 and 70)"),
    "macd_cross_up": N_("MACD just crossed above its signal line: momentum turning up"),
    "macd_cross_down": N_("MACD just crossed below its signal line: momentum turning down"),
    "macd_up": N_("MACD {macd} above its signal line {signal}: momentum up"),
    "macd_down": N_("MACD {macd} below its signal line {signal}: momentum down"),
    # bands, volatility, volume
    "above_band": N_("Above the upper Bollinger band ({upper}): stretched upwards"),
    "below_band": N_("Below the lower Bollinger band ({lower}): stretched downwards"),
    # A `%` followed by a space and a letter reads as a printf conversion to gettext tools ("% of",
    # "% del"), which then refuse translations whose letters differ: `%` ends its phrase here.
    "inside_bands": N_("Inside the Bollinger bands ({lower} – {upper}), position in the band: {position} %"),
    "atr": N_("Average range per candle (ATR) {atr}, as a share of the price: {percent} %"),
    "volume": N_("Volume {ratio}× its 20-candle average"),
    # the wider set
    "adx_weak": N_("ADX {adx}: weak or no trend"),
    "adx_buyers": N_("ADX {adx}: a trend, buyers lead (+DI above −DI)"),
    "adx_sellers": N_("ADX {adx}: a trend, sellers lead (−DI above +DI)"),
    "stochrsi_oversold": N_("Stochastic RSI {k} / {d}: oversold (under 20)"),
    "stochrsi_overbought": N_("Stochastic RSI {k} / {d}: overbought (over 80)"),
    "stochrsi_neutral": N_("Stochastic RSI {k} / {d}: neutral"),
    "obv_rising": N_("OBV rising over the last 20 candles: volume backs the buyers"),
    "obv_falling": N_("OBV falling over the last 20 candles: volume backs the sellers"),
    "supertrend_up": N_("Supertrend up: support at {level}"),
    "supertrend_down": N_("Supertrend down: resistance at {level}"),
    "above_cloud": N_("Above the Ichimoku cloud ({top})"),
    "below_cloud": N_("Below the Ichimoku cloud ({bottom})"),
    "inside_cloud": N_("Inside the Ichimoku cloud ({bottom} – {top})"),
    "tenkan_above": N_("Tenkan-sen {tenkan} above Kijun-sen {kijun}: short-term strength"),
    "tenkan_below": N_("Tenkan-sen {tenkan} below Kijun-sen {kijun}: short-term weakness"),
}


@dataclass(frozen=True)
class Finding:
    key: str
    args: tuple[tuple[str, str], ...] = ()
    tone: str = "neutral"            # "up" | "down" | "neutral": how it leans

    @classmethod
    def of(cls, key: str, tone: str = "neutral", **values: Decimal) -> Finding:
        if key not in TEMPLATES:
            raise KeyError(f"no finding template {key!r}")
        return cls(key, tuple((name, plain(value)) for name, value in values.items()), tone)

    @property
    def values(self) -> dict[str, str]:
        return dict(self.args)

    @property
    def text(self) -> str:
        return TEMPLATES[self.key].format(**self.values)


def _trend(price: Decimal, v: Mapping[str, Decimal]) -> Finding | None:
    ema50, ema200 = v.get("ema50"), v.get("ema200")
    if ema50 is None:
        return None
    if ema200 is None:
        return Finding.of("short_trend_up" if price >= ema50 else "short_trend_down",
                          "up" if price >= ema50 else "down", ema50=ema50)
    above50, above200, fast_over_slow = price >= ema50, price >= ema200, ema50 >= ema200
    key, tone = {
        (True, True, True): ("uptrend", "up"), (False, False, False): ("downtrend", "down"),
        (False, True, True): ("pullback", "neutral"), (False, True, False): ("pullback", "neutral"),
        (True, False, False): ("rebound", "neutral"), (True, False, True): ("rebound", "neutral"),
        (True, True, False): ("recovering", "up"), (False, False, True): ("weakening", "down"),
    }[(above50, above200, fast_over_slow)]
    return Finding.of(key, tone, ema50=ema50, ema200=ema200)


def read_brief(price: Decimal, v: Mapping[str, Decimal]) -> tuple[Finding, ...]:
    """Trend, RSI, MACD, Bollinger position, ATR and volume."""
    found: list[Finding | None] = [_trend(price, v)]
    rsi = v.get("rsi")
    if rsi is not None:
        found.append(Finding.of("rsi_oversold", "up", rsi=rsi) if rsi < 30 else
                     Finding.of("rsi_overbought", "down", rsi=rsi) if rsi > 70 else
                     Finding.of("rsi_neutral", rsi=rsi))
    macd, signal, hist, previous = v.get("macd"), v.get("macd_signal"), v.get("macd_hist"), v.get("macd_hist_prev")
    if hist is not None and previous is not None and (hist > 0) != (previous > 0) and hist != 0:
        found.append(Finding.of("macd_cross_up", "up") if hist > 0 else Finding.of("macd_cross_down", "down"))
    elif macd is not None and signal is not None:
        found.append(Finding.of("macd_up", "up", macd=macd, signal=signal) if macd >= signal else
                     Finding.of("macd_down", "down", macd=macd, signal=signal))
    lower, upper = v.get("bb_lower"), v.get("bb_upper")
    if lower is not None and upper is not None:
        if price > upper:
            found.append(Finding.of("above_band", "down", upper=upper))
        elif price < lower:
            found.append(Finding.of("below_band", "up", lower=lower))
        elif upper > lower:
            position = ((price - lower) / (upper - lower) * 100).quantize(Decimal(1))
            found.append(Finding.of("inside_bands", lower=lower, upper=upper, position=position))
    atr = v.get("atr")
    if atr is not None and price > 0:
        found.append(Finding.of("atr", atr=atr, percent=(atr / price * 100).quantize(Decimal("0.01"))))
    ratio = v.get("volume_ratio")
    if ratio is not None:
        found.append(Finding.of("volume", ratio=ratio.quantize(Decimal("0.01"))))
    return tuple(f for f in found if f is not None)


def read_wider(price: Decimal, v: Mapping[str, Decimal]) -> tuple[Finding, ...]:
    """ADX with its directional lines, Stochastic RSI, OBV's slope, Supertrend, Ichimoku."""
    found: list[Finding] = []
    adx, plus, minus = v.get("adx"), v.get("dmp"), v.get("dmn")
    if adx is not None:
        if adx < 20 or plus is None or minus is None:
            found.append(Finding.of("adx_weak", adx=adx))
        else:
            found.append(Finding.of("adx_buyers", "up", adx=adx) if plus >= minus else
                         Finding.of("adx_sellers", "down", adx=adx))
    k, d = v.get("stochrsi_k"), v.get("stochrsi_d")
    if k is not None and d is not None:
        found.append(Finding.of("stochrsi_oversold", "up", k=k, d=d) if k < 20 else
                     Finding.of("stochrsi_overbought", "down", k=k, d=d) if k > 80 else
                     Finding.of("stochrsi_neutral", k=k, d=d))
    slope = v.get("obv_slope")
    if slope is not None and slope != 0:
        found.append(Finding.of("obv_rising", "up") if slope > 0 else Finding.of("obv_falling", "down"))
    level, direction = v.get("supertrend"), v.get("supertrend_direction")
    if level is not None and direction is not None:
        found.append(Finding.of("supertrend_up", "up", level=level) if direction > 0 else
                     Finding.of("supertrend_down", "down", level=level))
    span_a, span_b = v.get("ichimoku_a"), v.get("ichimoku_b")
    if span_a is not None and span_b is not None:
        top, bottom = max(span_a, span_b), min(span_a, span_b)
        found.append(Finding.of("above_cloud", "up", top=top) if price > top else
                     Finding.of("below_cloud", "down", bottom=bottom) if price < bottom else
                     Finding.of("inside_cloud", bottom=bottom, top=top))
    tenkan, kijun = v.get("tenkan"), v.get("kijun")
    if tenkan is not None and kijun is not None:
        found.append(Finding.of("tenkan_above", "up", tenkan=tenkan, kijun=kijun) if tenkan >= kijun else
                     Finding.of("tenkan_below", "down", tenkan=tenkan, kijun=kijun))
    return tuple(found)
