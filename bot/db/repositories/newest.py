"""The newest row of each coin in an append-only table (signals, automatic-order decisions).

Two queries whatever the number of coins: a correlated subquery takes each coin's highest id
(rows are only ever appended, so the highest id is the newest) and rides the symbol index, where
a GROUP BY would read every row the table ever got; then the rows themselves by id.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# SQLite allows at most 500 terms in a compound SELECT (the UNION ALL of symbols below).
CHUNK = 500


async def newest_per_symbol(model: Any, symbols: Iterable[str], *, mode: str | None = None) -> list[Any]:
    ids = await newest_ids(model, symbols, mode=mode)
    return list(await model.filter(id__in=ids)) if ids else []


async def newest_ids(model: Any, symbols: Iterable[str], *, mode: str | None = None) -> list[int]:
    """The id of each coin's newest row (coins without rows are left out)."""
    wanted = sorted(set(symbols))
    if not wanted:
        return []
    connection = model._meta.db
    table = model._meta.db_table
    # Parameters in the connection's own style: `?` for SQLite, `$n` for asyncpg.
    numbered = connection.capabilities.dialect == "postgres"

    def mark(position: int) -> str:
        return f"${position}" if numbered else "?"

    ids: list[int] = []
    for start in range(0, len(wanted), CHUNK):
        # The mode's mark comes first in the statement, so it comes first in `values` (SQLite takes
        # its `?` in the order they appear).
        values: list[str] = [*([mode] if mode is not None else []), *wanted[start:start + CHUNK]]
        first = 1 if mode is None else 2
        mode_filter = f" AND x.mode = {mark(1)}" if mode is not None else ""
        symbols_table = " UNION ALL ".join(f"SELECT CAST({mark(p)} AS VARCHAR(32)) AS symbol"
                                           for p in range(first, len(values) + 1))
        _, rows = await connection.execute_query(
            f"SELECT (SELECT MAX(x.id) FROM {table} x WHERE x.symbol = s.symbol{mode_filter}) AS newest "
            f"FROM ({symbols_table}) s", values)
        ids += [row["newest"] for row in rows if row["newest"] is not None]
    return ids
