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
    """LIVE is marked so nobody mistakes it for practice; paper never reads as live."""
    if mode == "live":
        return "🔴 <b>" + esc(reader._("LIVE")) + "</b>"
    return "📝 " + esc(reader._("Paper (simulated)"))


@dataclass(frozen=True)
class Paged:
    """One page of blocks (each block a few lines that belong together) and where it sits."""

    blocks: tuple[str, ...]
    page: int          # 0-based, clamped to the pages that exist
    pages: int
    first_index: int   # index of this page's first block in the whole list


def paginate(blocks: Sequence[str], page: int, *, per_page: int, budget: int) -> Paged:
    """Blocks cut into pages of at most `per_page`, each page's text under `budget` characters.
    A block is never split (its lines belong together); a block larger than the budget gets a page
    of its own and is truncated at a line end."""
    pages: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 0
    size = 0
    for index, block in enumerate(blocks):
        block = _fit(block, budget)
        if current and (len(current) >= per_page or size + len(block) + 2 > budget):
            pages.append((start, current))
            current, size, start = [], 0, index
        current.append(block)
        size += len(block) + 2
    if current or not pages:
        pages.append((start, current))
    page = max(0, min(page, len(pages) - 1))
    first, chosen = pages[page]
    return Paged(blocks=tuple(chosen), page=page, pages=len(pages), first_index=first)


def _fit(block: str, budget: int) -> str:
    if len(block) <= budget:
        return block
    cut = block.rfind("\n", 0, budget - 2)
    return block[: cut if cut > 0 else budget - 2] + "\n…"
