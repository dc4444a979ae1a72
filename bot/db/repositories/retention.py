"""Rolling up what the market cycles record: indicator snapshots and signal decisions older than
the retention. Orders, executed history and protection groups are never touched here.

What stays of the old rows: each coin's newest snapshot (per timeframe), and of its decisions each
change (the first of a run of equal decisions: what an alert told, and when) and its newest. The
rest goes in batches by id, so no single write holds the database for long. A row's fate is read
from its neighbours through indexes (its coin's next row, the one before it), so a run costs in
proportion to the rows that aged past the cut-off since the last run, not to the table.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from bot.db.models import IndicatorSnapshot, SignalRecord

BATCH = 2000


class RetentionRepository:
    def __init__(self, *, batch: int = BATCH) -> None:
        self.batch = batch
        # Per table, the last id already examined: old rows kept once stay kept, so a later run
        # starts after them (a restart examines the kept ones once more).
        self._examined: dict[str, int] = {}

    async def prune_snapshots(self, cutoff: datetime) -> int:
        """Snapshots computed before `cutoff`, except each coin's newest per timeframe."""
        old = IndicatorSnapshot.filter(computed_at__lt=cutoff)
        return await self._delete_where(IndicatorSnapshot, old, "computed_at", (
            "EXISTS (SELECT 1 FROM indicator_snapshots n WHERE n.symbol = x.symbol "
            "AND n.timeframe = x.timeframe AND n.computed_at > x.computed_at)"))

    async def roll_up_signals(self, cutoff: datetime) -> int:
        """Decisions taken before `cutoff` that repeat the one before them (same coin), except each
        coin's newest."""
        old = SignalRecord.filter(decided_at__lt=cutoff)
        return await self._delete_where(SignalRecord, old, "decided_at", (
            "EXISTS (SELECT 1 FROM signals n WHERE n.symbol = x.symbol AND n.id > x.id) "
            "AND x.decision = (SELECT p.decision FROM signals p WHERE p.symbol = x.symbol AND p.id < x.id "
            "ORDER BY p.id DESC LIMIT 1)"))

    async def _delete_where(self, model: Any, old: Any, time_column: str, doomed: str) -> int:
        """Delete the old rows for which `doomed` holds, a batch at a time, from the last id examined
        up to the newest old row (rows are appended as they happen: ids follow their time)."""
        table = model._meta.db_table
        newest_old = await old.order_by(f"-{time_column}", "-id").limit(1).values_list("id", flat=True)
        if not newest_old:
            return 0
        bound = int(newest_old[0])
        after = self._examined.get(table, 0)
        deleted = 0
        while after < bound:
            candidates = [int(i) for i in await old.filter(id__gt=after, id__lte=bound).order_by("id")
                          .limit(self.batch).values_list("id", flat=True)]
            if not candidates:
                break
            # The ids are integers read just above: written into the statement, not bound one by one.
            _, rows = await model._meta.db.execute_query(
                f"SELECT x.id FROM {table} x WHERE x.id IN ({', '.join(map(str, candidates))}) AND {doomed}")  # nosec B608
            doomed_ids = [int(row["id"]) for row in rows]
            if doomed_ids:
                deleted += await model.filter(id__in=doomed_ids).delete()
            after = candidates[-1]
            await asyncio.sleep(0)             # other tasks get the database between batches
        self._examined[table] = bound
        return deleted
