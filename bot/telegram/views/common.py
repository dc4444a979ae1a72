"""What every message layout shares: the reader (language, time zone), escaping, the mode badge, pages.

Render functions are pure: they take the data and a `Reader` and return text (HTML) and a keyboard,
so they are tested without Telegram, and a job outside any update (the daily report) uses them too.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from aiogram.utils.i18n import I18n

from bot.presentation import formatting

MESSAGE_LIMIT = 4096


def esc(value: object) -> str:
    """Every dynamic value goes through here: a coin or an order id with `<` or `&` cannot break a message."""
    return html.escape(str(value), quote=False)


@dataclass(frozen=True)
class Reader:
    """Who reads a message: the language of its words and numbers, and the zone of its times."""

    locale: str
    timezone: str
    translate: Callable[[str], str]
    translate_plural: Callable[[str, str, int], str]

    @classmethod
    def of(cls, i18n: I18n, locale: str, timezone: str = "UTC") -> Reader:
        return cls(locale=locale, timezone=timezone,
                   translate=lambda text: i18n.gettext(text, locale=locale),
                   translate_plural=lambda one, many, n: i18n.gettext(one, many, n, locale=locale))

    def _(self, text: str) -> str:
        return self.translate(text)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.translate_plural(singular, plural, n)

    # Numbers and times, already escaped for HTML (Babel's output has no markup, but a currency might).
    def money(self, value: Decimal, currency: str, *, signed: bool = False) -> str:
        return esc(formatting.money(value, currency, self.locale, signed=signed))

    def price(self, value: Decimal, quote: str) -> str:
        return esc(formatting.price(value, quote, self.locale))

    def quantity(self, value: Decimal, asset: str) -> str:
        return esc(formatting.quantity(value, asset, self.locale))

    def percent(self, value: Decimal, *, signed: bool = False) -> str:
        return esc(formatting.percent(value, self.locale, signed=signed))

    def when(self, moment: datetime, *, with_zone: bool = True) -> str:
        return esc(formatting.when(moment, self.locale, self.timezone, with_zone=with_zone))


def mode_badge(mode: str, reader: Reader) -> str:
    """LIVE is marked so nobody mistakes it for practice; paper never reads as live (the same marks as
    the notifications')."""
    if mode == "live":
        return "🔴 <b>" + esc(reader._("LIVE")) + "</b>"
    return "🧪 <i>" + esc(reader._("paper")) + "</i>"


@dataclass(frozen=True)
class PageSpan:
    """Which items one page shows: [start, end), and where the page sits among all of them."""

    start: int
    end: int
    page: int          # 0-based, clamped to the pages that exist
    pages: int


def page_span(sizes: Sequence[int], page: int, *, per_page: int, budget: int) -> PageSpan:
    """Items cut into pages of at most `per_page`, each page's text (the sizes, in characters) under
    `budget`. An item is never split; one larger than the budget gets a page of its own. Only the
    sizes are needed, so a long list is paged without rendering what is not shown."""
    bounds: list[tuple[int, int]] = []
    start, size = 0, 0
    for index, item in enumerate(sizes):
        if index > start and (index - start >= per_page or size + item > budget):
            bounds.append((start, index))
            start, size = index, 0
        size += item
    bounds.append((start, len(sizes)))
    page = max(0, min(page, len(bounds) - 1))
    return PageSpan(*bounds[page], page=page, pages=len(bounds))


@dataclass(frozen=True)
class Paged:
    blocks: tuple[str, ...]
    page: int
    pages: int


def paginate(blocks: Sequence[str], page: int, *, per_page: int, budget: int) -> Paged:
    """Rendered blocks (a few lines that belong together each) cut into pages under `budget` characters."""
    fitted = [_fit(block, budget) for block in blocks]
    span = page_span([len(b) + 1 for b in fitted], page, per_page=per_page, budget=budget)
    return Paged(tuple(fitted[span.start:span.end]), span.page, span.pages)


def _fit(block: str, budget: int) -> str:
    if len(block) <= budget:
        return block
    cut = block.rfind("\n", 0, budget - 2)
    return block[: cut if cut > 0 else budget - 2] + "\n…"
