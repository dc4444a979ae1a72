"""A coin's chart as a PNG: candlesticks with EMA50 / EMA200 and the Bollinger bands, an RSI panel,
a MACD panel, and the open orders' prices (buys, sells, stop-losses, take-profits) as lines.

Pure drawing, no aiogram and no I/O, so the bot and the Mini App (GET /api/candles/{symbol}) draw
the same picture. matplotlib's Figure API on the Agg canvas: no pyplot global state, no GUI
backend, safe in a worker thread (the caller runs it off the event loop). Floats appear only
here, for drawing.

Candles are drawn as two collections (wicks, bodies) rather than a patch per candle: 120 candles
render in about a third of the time.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

WIDTH_PX, HEIGHT_PX, DPI = 1000, 700, 100
UP, DOWN = "#26a69a", "#ef5350"
LEVEL_STYLES = {"buy": ("#1e88e5", "--"), "sell": ("#8e24aa", "--"), "stop_loss": (DOWN, "-"),
                "take_profit": (UP, "-")}


@dataclass(frozen=True)
class ChartSeries:
    """The candles shown and the indicator lines over them, oldest first, all the same length."""
    times_ms: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    ema50: np.ndarray
    ema200: np.ndarray
    bb_upper: np.ndarray
    bb_lower: np.ndarray
    rsi: np.ndarray
    macd: np.ndarray
    macd_signal: np.ndarray
    macd_hist: np.ndarray

    def __len__(self) -> int:
        return len(self.times_ms)


@dataclass(frozen=True)
class ChartLevel:
    kind: str           # buy | sell | stop_loss | take_profit
    price: float
    label: str          # e.g. "SL 92150"


@dataclass(frozen=True)
class ChartInput:
    title: str
    series: ChartSeries
    levels: tuple[ChartLevel, ...] = ()


def _candles(axis: object, series: ChartSeries, x: np.ndarray) -> None:
    from matplotlib.collections import LineCollection, PolyCollection

    rising = series.close >= series.open
    colours = np.where(rising, UP, DOWN)
    wicks = np.stack([np.column_stack([x, series.low]), np.column_stack([x, series.high])], axis=1)
    bottom, top = np.minimum(series.open, series.close), np.maximum(series.open, series.close)
    half = 0.32
    bodies = np.stack([np.column_stack([x - half, bottom]), np.column_stack([x + half, bottom]),
                       np.column_stack([x + half, top]), np.column_stack([x - half, top])], axis=1)
    axis.add_collection(LineCollection(list(wicks), colors=colours, linewidths=0.8))      # type: ignore[attr-defined]
    axis.add_collection(PolyCollection(list(bodies), facecolors=colours, edgecolors=colours,  # type: ignore[attr-defined]
                                       linewidths=0.5))


def _bars(axis: object, x: np.ndarray, heights: np.ndarray) -> None:
    """A histogram as one collection: `bar()` makes a patch per bar, a third of the drawing's time."""
    from matplotlib.collections import PolyCollection

    half = 0.35
    zero = np.zeros_like(heights)
    boxes = np.stack([np.column_stack([x - half, zero]), np.column_stack([x + half, zero]),
                      np.column_stack([x + half, heights]), np.column_stack([x - half, heights])], axis=1)
    colours = np.where(heights >= 0, UP, DOWN)
    axis.add_collection(PolyCollection(list(boxes), facecolors=colours, edgecolors=colours,  # type: ignore[attr-defined]
                                       linewidths=0.3, alpha=0.6))
    axis.autoscale_view()                                                                    # type: ignore[attr-defined]


def _tick_labels(times_ms: np.ndarray, count: int = 6) -> tuple[list[int], list[str]]:
    if len(times_ms) == 0:
        return [], []
    positions = sorted({round(float(p)) for p in np.linspace(0, len(times_ms) - 1, count)})
    labels = [datetime.fromtimestamp(int(times_ms[p]) / 1000, UTC).strftime("%d %b %H:%M") for p in positions]
    return positions, labels


def render_png(chart: ChartInput) -> bytes:
    """The chart as PNG bytes, WIDTH_PX × HEIGHT_PX."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    series = chart.series
    x = np.arange(len(series), dtype=np.float64)
    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    grid = figure.add_gridspec(3, 1, height_ratios=(3.2, 1, 1.1), hspace=0.06, left=0.04, right=0.92, top=0.94,
                               bottom=0.07)
    price_axis = figure.add_subplot(grid[0])
    rsi_axis = figure.add_subplot(grid[1], sharex=price_axis)
    macd_axis = figure.add_subplot(grid[2], sharex=price_axis)
    figure.suptitle(chart.title, x=0.04, ha="left", fontsize=11)

    _candles(price_axis, series, x)
    price_axis.fill_between(x, series.bb_lower, series.bb_upper, color="#90a4ae", alpha=0.15, linewidth=0,
                            label="Bollinger 20, 2")
    price_axis.plot(x, series.ema50, color="#fb8c00", linewidth=1.1, label="EMA50")
    price_axis.plot(x, series.ema200, color="#3949ab", linewidth=1.1, label="EMA200")
    low, high = float(np.nanmin(series.low)), float(np.nanmax(series.high))
    for level in chart.levels:
        colour, style = LEVEL_STYLES.get(level.kind, ("#555555", ":"))
        price_axis.axhline(level.price, color=colour, linestyle=style, linewidth=1.0)
        # Inside the plot, at its right end: the price axis's own labels are outside on the right.
        price_axis.annotate(level.label, xy=(0.995, level.price), xycoords=("axes fraction", "data"),
                            xytext=(0, 2), textcoords="offset points", ha="right", va="bottom", fontsize=8,
                            color=colour, bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "alpha": 0.7,
                                                "linewidth": 0})
        low, high = min(low, level.price), max(high, level.price)
    margin = (high - low) * 0.04 or abs(high) * 0.01 or 1.0
    price_axis.set_ylim(low - margin, high + margin)
    price_axis.set_xlim(-1, len(series))
    price_axis.legend(loc="upper left", fontsize=8, frameon=False)
    price_axis.grid(alpha=0.25)
    price_axis.yaxis.tick_right()

    rsi_axis.plot(x, series.rsi, color="#6d4c41", linewidth=1.0)
    for bound in (30, 70):
        rsi_axis.axhline(bound, color="#9e9e9e", linewidth=0.7, linestyle="--")
    rsi_axis.set_ylim(0, 100)
    rsi_axis.set_ylabel("RSI 14", fontsize=8)
    rsi_axis.grid(alpha=0.25)
    rsi_axis.yaxis.tick_right()

    hist = np.nan_to_num(series.macd_hist)
    _bars(macd_axis, x, hist)
    macd_axis.plot(x, series.macd, color="#1e88e5", linewidth=1.0)
    macd_axis.plot(x, series.macd_signal, color="#fb8c00", linewidth=1.0)
    macd_axis.set_ylabel("MACD", fontsize=8)
    macd_axis.grid(alpha=0.25)
    macd_axis.yaxis.tick_right()

    positions, labels = _tick_labels(series.times_ms)
    macd_axis.set_xticks(positions, labels, fontsize=8)
    for axis in (price_axis, rsi_axis):
        axis.tick_params(labelbottom=False)
    for axis in (price_axis, rsi_axis, macd_axis):
        axis.tick_params(axis="y", labelsize=8)
    macd_axis.set_xlabel("UTC", fontsize=8)

    out = io.BytesIO()
    # Fast compression: a third of the encoding time for a slightly larger file (~250 kB).
    figure.savefig(out, format="png", dpi=DPI, pil_kwargs={"compress_level": 1})
    return out.getvalue()


def level_label(kind: str, price: str) -> str:
    return {"buy": "BUY", "sell": "SELL", "stop_loss": "SL", "take_profit": "TP"}.get(kind, kind) + f" {price}"


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from a PNG's header (IHDR)."""
    if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")

