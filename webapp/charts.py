"""Charts as inline SVG, drawn on the server: no chart library to ship, nothing to run in the page.

Coordinates only; labels that a reader reads (prices, dates) are formatted by the template, in the
reader's locale. The SVG uses presentation attributes (no inline style), which the page's
Content-Security-Policy allows, and `currentColor`/CSS classes so it follows the Telegram theme.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import numpy as np
import talib
from markupsafe import Markup, escape

from bot.exchange.base import Candle

WIDTH, HEIGHT, PAD = 600, 240, 6


@dataclass(frozen=True)
class Chart:
    svg: Markup
    low: Decimal
    high: Decimal
    start: datetime | None = None
    end: datetime | None = None


def _scale(low: float, high: float) -> tuple[float, float]:
    span = high - low or abs(high) or 1.0
    return low - span * 0.04, high + span * 0.04


def line_chart(points: Sequence[tuple[datetime, Decimal]]) -> Chart:
    values = [float(v) for _t, v in points]
    low, high = _scale(min(values), max(values))
    n = len(values)
    xs = [PAD + (WIDTH - 2 * PAD) * i / max(n - 1, 1) for i in range(n)]
    ys = [HEIGHT - PAD - (HEIGHT - 2 * PAD) * (v - low) / (high - low) for v in values]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
    area = f"{PAD},{HEIGHT - PAD} {path} {xs[-1]:.1f},{HEIGHT - PAD}"
    svg = (f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" preserveAspectRatio="none">'
           f'<polygon class="chart-area" points="{area}"/>'
           f'<polyline class="chart-line" fill="none" stroke-width="2" vector-effect="non-scaling-stroke" '
           f'points="{path}"/></svg>')
    return Chart(Markup(svg), Decimal(str(min(values))), Decimal(str(max(values))), points[0][0], points[-1][0])


def _series(values: np.ndarray, low: float, high: float, step: float, css: str) -> str:
    parts = []
    for i, value in enumerate(values):
        if not np.isnan(value):
            y = HEIGHT - PAD - (HEIGHT - 2 * PAD) * (value - low) / (high - low)
            parts.append(f"{PAD + step * (i + 0.5):.1f},{y:.1f}")
    if len(parts) < 2:
        return ""
    return (f'<polyline class="{css}" fill="none" stroke-width="1.5" vector-effect="non-scaling-stroke" '
            f'points="{" ".join(parts)}"/>')


def candle_chart(candles: Sequence[Candle], levels: Sequence[tuple[str, Decimal]]) -> Chart:
    """Candles with EMA 10/50 and Bollinger bands (20, 2), and a dashed line at each order's price."""
    close = np.array([float(c.close) for c in candles])
    ema10, ema50 = talib.EMA(close, 10), talib.EMA(close, 50)
    upper, _middle, lower = talib.BBANDS(close, 20, 2.0, 2.0)
    shown = [float(c.low) for c in candles] + [float(c.high) for c in candles] + [float(p) for _n, p in levels]
    low, high = _scale(min(shown), max(shown))
    step = (WIDTH - 2 * PAD) / max(len(candles), 1)

    def y(value: Decimal | float) -> float:
        return HEIGHT - PAD - (HEIGHT - 2 * PAD) * (float(value) - low) / (high - low)

    body = []
    for i, c in enumerate(candles):
        x = PAD + step * i
        css = "up" if c.close >= c.open else "down"
        top, bottom = y(max(c.open, c.close)), y(min(c.open, c.close))
        body.append(f'<g class="candle {css}"><line x1="{x + step / 2:.1f}" x2="{x + step / 2:.1f}" '
                    f'y1="{y(c.high):.1f}" y2="{y(c.low):.1f}" vector-effect="non-scaling-stroke"/>'
                    f'<rect x="{x + step * 0.15:.1f}" width="{max(step * 0.7, 0.5):.1f}" y="{top:.1f}" '
                    f'height="{max(bottom - top, 0.5):.1f}"/></g>')
    lines = [_series(upper, low, high, step, "band"), _series(lower, low, high, step, "band"),
             _series(ema50, low, high, step, "ema50"), _series(ema10, low, high, step, "ema10")]
    for name, value in levels:
        ly = y(value)
        lines.append(f'<line class="level level-{escape(name)}" x1="{PAD}" x2="{WIDTH - PAD}" y1="{ly:.1f}" '
                     f'y2="{ly:.1f}" stroke-dasharray="6 4" vector-effect="non-scaling-stroke"/>')
    svg = (f'<svg class="chart candles" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" preserveAspectRatio="none">'
           + "".join(body) + "".join(lines) + "</svg>")
    return Chart(Markup(svg), Decimal(str(min(shown))), Decimal(str(max(shown))))
