"""Pages of a long list: which items a page shows, under Telegram's 4,096 characters.

Render functions are pure: they take the data and a `bot.telegram.wording.Reader` and return text
(HTML) and a keyboard, so they are tested without Telegram, and a job outside any update (the daily
report) uses them too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

MESSAGE_LIMIT = 4096


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
