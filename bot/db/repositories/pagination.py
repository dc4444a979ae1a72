"""Keyset pagination shared by every list query: an opaque cursor, a limit, and the next cursor.

A page is "the `limit` rows after this key" in a fixed order (a sort column, then the primary key
as the unique tiebreaker), so pages never skip or repeat a row when rows arrive between two
requests, and many rows sharing one timestamp still page one by one. The cursor is the last row's
key, base64url-encoded JSON named after the list it belongs to: a cursor from another list, or
one a client edited, is refused with `InvalidCursor` (a 400 for the API, not a wrong page).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from tortoise.expressions import Q

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class InvalidCursor(ValueError):
    """A cursor this list did not issue (another list's, edited, or truncated)."""


@dataclass(frozen=True)
class Page[T]:
    items: list[T]
    next_cursor: str | None      # None on the last page

    @property
    def has_more(self) -> bool:
        return self.next_cursor is not None


@dataclass(frozen=True)
class Ordering:
    """How one list is sorted: `column` then `tiebreaker` (unique), newest/largest first by default."""
    name: str                     # names the list inside its cursors
    column: str
    tiebreaker: str = "id"
    descending: bool = True


def clamp_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    return max(1, min(int(limit), MAX_LIMIT))


def _encode_value(value: Any) -> list[Any]:
    if isinstance(value, datetime):
        return ["dt", value.isoformat()]
    if isinstance(value, Decimal):
        return ["dec", str(value)]
    if isinstance(value, bool) or value is None:
        raise TypeError(f"cannot page on a {type(value).__name__} key")
    if isinstance(value, int):
        return ["int", value]
    return ["str", str(value)]


def _decode_value(tagged: Any) -> Any:
    if not (isinstance(tagged, list) and len(tagged) == 2):
        raise InvalidCursor("malformed cursor")
    tag, raw = tagged
    try:
        if tag == "dt":
            return datetime.fromisoformat(raw)
        if tag == "dec":
            return Decimal(raw)
        if tag == "int" and isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        if tag == "str" and isinstance(raw, str):
            return raw
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise InvalidCursor("malformed cursor") from exc
    raise InvalidCursor("malformed cursor")


def encode_cursor(ordering: Ordering, key: tuple[Any, Any]) -> str:
    body = json.dumps({"l": ordering.name, "k": [_encode_value(key[0]), _encode_value(key[1])]},
                      separators=(",", ":"))
    return base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")


def decode_cursor(ordering: Ordering, cursor: str) -> tuple[Any, Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        body = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor("malformed cursor") from exc
    if not isinstance(body, dict) or body.get("l") != ordering.name:
        raise InvalidCursor("cursor belongs to another list")
    key = body.get("k")
    if not (isinstance(key, list) and len(key) == 2):
        raise InvalidCursor("malformed cursor")
    return _decode_value(key[0]), _decode_value(key[1])


def _after(ordering: Ordering, key: tuple[Any, Any]) -> Q:
    """Rows strictly after `key` in the list's order."""
    op = "lt" if ordering.descending else "gt"
    value, tiebreak = key
    if ordering.column == ordering.tiebreaker:
        return Q(**{f"{ordering.tiebreaker}__{op}": tiebreak})
    return Q(**{f"{ordering.column}__{op}": value}) | Q(
        **{ordering.column: value, f"{ordering.tiebreaker}__{op}": tiebreak})


async def keyset_page(query: Any, ordering: Ordering, *, cursor: str | None, limit: int | None) -> Page[Any]:
    """One page of `query` (a Tortoise queryset, already filtered) in `ordering`'s order."""
    size = clamp_limit(limit)
    if cursor:
        query = query.filter(_after(ordering, decode_cursor(ordering, cursor)))
    sign = "-" if ordering.descending else ""
    columns = [f"{sign}{ordering.column}"]
    if ordering.tiebreaker != ordering.column:
        columns.append(f"{sign}{ordering.tiebreaker}")
    rows = list(await query.order_by(*columns).limit(size + 1))
    more = len(rows) > size
    rows = rows[:size]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = encode_cursor(ordering, (getattr(last, ordering.column), getattr(last, ordering.tiebreaker)))
    return Page(rows, next_cursor)
