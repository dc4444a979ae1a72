"""The active groups of two linked legs, in memory: which leg's fill must cancel which sibling.

The stream's push of a leg's fill can then cancel the sibling at once, before anything is read or
written: each database round trip hops to the driver's thread and back, a few milliseconds each
on a busy machine, and the sibling stays open all that time. The database stays the truth; this
is only a head start (the usual reaction still follows, and a stale entry at worst cancels an
order that is already gone).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.db.repositories import OcoGroupRecord
from bot.domain.oco import GroupState


@dataclass(frozen=True)
class Sibling:
    group_id: str
    symbol: str
    client_oid: str


class LinkedLegs:
    def __init__(self) -> None:
        self._sibling_of: dict[str, Sibling] = {}      # leg client_oid -> the other leg

    def __len__(self) -> int:
        return len(self._sibling_of)

    def track(self, group: OcoGroupRecord) -> None:
        """Follow an active group of two linked legs, with its current legs (a native OCO's
        exchange cancels its own sibling: not followed)."""
        self.forget(group.id)
        stop, take = group.stop_loss_client_oid, group.take_profit_client_oid
        if group.native_list_id or GroupState(group.state) is not GroupState.ACTIVE or not stop or not take:
            return
        self._sibling_of[stop] = Sibling(group.id, group.symbol, take)
        self._sibling_of[take] = Sibling(group.id, group.symbol, stop)

    def forget(self, group_id: str) -> None:
        for leg in [leg for leg, sibling in self._sibling_of.items() if sibling.group_id == group_id]:
            del self._sibling_of[leg]

    def take_sibling(self, leg_client_oid: str) -> Sibling | None:
        """The other leg of a leg that just filled; the group is no longer followed (a fill ends it)."""
        sibling = self._sibling_of.get(leg_client_oid)
        if sibling is not None:
            self.forget(sibling.group_id)
        return sibling
