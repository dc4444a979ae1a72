"""The database mirror of the exchange: open orders, order history, balances and the portfolio.

One cycle: open orders (new / changed / gone), history since the stored cursor (with an overlap,
in 1-day windows; normally one call), protection left pending by a crash, balances, and one
portfolio snapshot. The 180-day back-fill is not part of a cycle: it runs as its own paced task
(`run_backfill`, started by the app), sharing the history reader's 1 request/s with the cycles, so
a cycle never waits more than one history interval behind it. Every order change goes
through `ingest`, which the order stream uses too, so both paths emit the same events and the
protection reacts to the first that sees a fill.

"Watched" orders are those the bot saw open, or that ended after it began watching the account;
only they emit events and trigger protection. History found by the first sync or the back-fill
is stored silently.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from bot.db.repositories import (
    BalanceRepository,
    OcoGroupRepository,
    OrderRecord,
    OrderRepository,
    PortfolioRepository,
    SyncCursorRepository,
    guess_source,
)
from bot.domain.events import OrderCanceled, OrderFilled, OrderRejected
from bot.domain.money import ZERO
from bot.domain.orders import Order, OrderRole, OrderStatus, Side
from bot.domain.portfolio import Portfolio, usd_price, value_portfolio
from bot.exchange.base import Exchange
from bot.exchange.errors import ExchangeError, OrderNotFound
from bot.services.backfill import BACKFILL_CURSOR, BackfillProgress, HistoryBackfill
from bot.services.events import EventBus
from bot.services.history import DAY_NS, HistoryReader, day_windows, order_time_ns
from bot.services.leadership import check_fence
from bot.services.protection import ProtectionService

log = logging.getLogger(__name__)

__all__ = ["DAY_NS", "HISTORY_CURSOR", "SyncReport", "SyncService", "day_windows", "order_time_ns"]

HISTORY_CURSOR = "order_history"
# Buys whose fills the protection covers (not its own legs).
_ENTRY_ROLES = frozenset({OrderRole.ENTRY.value, OrderRole.MANUAL.value, OrderRole.UNKNOWN.value})


@dataclass
class SyncReport:
    first_sync: bool = False
    open_orders: int = 0
    new_orders: int = 0
    changed_orders: int = 0
    history_calls: int = 0
    detail_calls: int = 0
    total_usd: Decimal | None = None
    unpriced_assets: tuple[str, ...] = ()
    duration_s: float = 0.0
    notes: list[str] = field(default_factory=list)


class SyncService:
    def __init__(self, exchange: Exchange, events: EventBus, repository: OrderRepository,
                 protection: ProtectionService | None = None, *, clock: Callable[[], int] = time.time_ns,
                 history_overlap_s: float = 300, history_min_interval_s: float = 1.0,
                 history_page_limit: int = 100, backfill_days: int = 180) -> None:
        self.exchange = exchange
        self.events = events
        self.repo = repository
        self.groups = OcoGroupRepository(repository.mode, repository.account)
        self.cursors = SyncCursorRepository(repository.mode, repository.account)
        self.balances = BalanceRepository(repository.mode, repository.account)
        self.snapshots = PortfolioRepository(repository.mode, repository.account)
        self.protection = protection
        self.clock = clock
        self.history_overlap_ns = int(history_overlap_s * 1e9)
        self.backfill_days = backfill_days
        self.history = HistoryReader(exchange, page_limit=history_page_limit,
                                     min_interval_s=history_min_interval_s)
        self._ingest_lock = asyncio.Lock()
        self._cycle_lock = asyncio.Lock()
        self.watch_started_ns: int | None = None
        self.last_report: SyncReport | None = None

    @property
    def mode(self) -> str:
        return self.repo.mode

    # The cycle -----------------------------------------------------------------------------

    async def run_cycle(self) -> SyncReport:
        async with self._cycle_lock:
            started = time.perf_counter()
            report = SyncReport()
            await self._ensure_watching(report)
            await self._sync_open_and_recent(report)
            if self.protection is not None:
                await self.protection.resume_pending()
            portfolio = await self._sync_balances_and_portfolio()
            report.total_usd = portfolio.total_usd
            report.unpriced_assets = portfolio.unpriced_assets
            report.duration_s = time.perf_counter() - started
            self.last_report = report
            return report

    async def _ensure_watching(self, report: SyncReport) -> None:
        cursor = await self.cursors.get(HISTORY_CURSOR)
        if cursor is None:
            now = self.clock()
            # A back-fill run from the CLI before the first sync covered history up to its own start:
            # the first recent scan starts there, so the gap between the two is read too.
            backfill = await self.cursors.get(BACKFILL_CURSOR)
            upper = int(backfill.data.get("upper_ns", now)) if backfill is not None else now
            await self.cursors.save(HISTORY_CURSOR, min(upper, now) + self.history_overlap_ns,
                                        {"watch_started_ns": now})
            self.watch_started_ns = now
            report.first_sync = True
        else:
            self.watch_started_ns = int(cursor.data.get("watch_started_ns", cursor.value))

    async def _sync_open_and_recent(self, report: SyncReport) -> None:
        open_orders = await self.exchange.open_orders()
        report.open_orders = len(open_orders)
        open_ids = {o.order_id for o in open_orders}
        for order in open_orders:
            await self.ingest(order, watched=True, report=report)
        # History: the window since the cursor (minus an overlap for late-arriving orders), so a
        # cycle reads what changed since the last one and never pages through stored history.
        cursor = await self.cursors.get(HISTORY_CURSOR)
        assert cursor is not None
        now = self.clock()
        start = max(0, cursor.value - self.history_overlap_ns)
        for lower, upper in day_windows(start, now):
            read = await self.history.read_window(lower, upper, lambda page: self.ingest_page(page, report=report))
            report.history_calls += read.calls
        await check_fence()      # a replaced leader does not move the cursor past what its successor reads
        await self.cursors.save(HISTORY_CURSOR, now)
        # Orders we hold as open that the exchange no longer lists: ask for each one's final state
        # (a long-resting order that filled now is outside the recent window, which is by creation time).
        for row in await self.repo.open_rows():
            if row.exchange_order_id in open_ids:
                continue
            report.detail_calls += 1
            detail: Order | None = None
            try:
                detail = await self.exchange.order_detail(order_id=row.exchange_order_id)
            except OrderNotFound:
                detail = None
            if detail is None:
                report.notes.append(f"order {row.exchange_order_id} vanished from the exchange")
                continue
            await self.ingest(detail, report=report)

    async def run_backfill(self, *, max_calls: int | None = None) -> BackfillProgress:
        """Walk the older history (all of it, or `max_calls` history requests' worth), paced with the
        cycles' own history reads. Never called inside a cycle: a cycle must not wait behind it."""
        if self.watch_started_ns is None:
            # The walk ends where watching began, so that point is fixed first (as the first cycle would).
            async with self._cycle_lock:
                await self._ensure_watching(SyncReport())
        return await HistoryBackfill(self, days=self.backfill_days).run(max_calls=max_calls)

    async def _mirror_balances_after_fill(self) -> None:
        """A pushed fill moved coins: the balances mirror follows now, not at the next sync, or a group
        just closed by its take-profit would leave the sold coins listed as held and unprotected."""
        try:
            await self.balances.mirror(await self.exchange.balances())
        except ExchangeError as exc:
            log.info("balances after a fill not read (%s); the next sync reads them", type(exc).__name__)

    async def _sync_balances_and_portfolio(self) -> Portfolio:
        balances = await self.exchange.balances()
        await self.balances.mirror(balances)
        quantities = {asset: b.total for asset, b in balances.items()}
        prices: dict[str, Decimal | None] = {}
        if any(q and usd_price(a, {}) is None for a, q in quantities.items()):
            prices = {symbol: t.last for symbol, t in (await self.exchange.tickers()).items()}
        portfolio = value_portfolio(quantities, prices)
        await self.snapshots.add(taken_at=datetime.now(UTC), total_usd=portfolio.total_usd,
                                 unpriced_assets=portfolio.unpriced_assets,
                                 positions=[p.as_json() for p in portfolio.positions])
        return portfolio

    # Ingesting orders ----------------------------------------------------------------------

    def is_watched(self, order: Order) -> bool:
        if self.watch_started_ns is None:
            return False
        return order_time_ns(order) >= self.watch_started_ns

    async def ingest_page(self, orders: list[Order], *, report: SyncReport | None = None) -> None:
        """A history page: unseen orders from before watching are bulk-inserted silently; the rest
        (changed, or ended while watched) go through `ingest` for their events."""
        async with self.events.held_while(self._ingest_lock):
            rows = await self.repo.by_ids(o.order_id for o in orders)
            silent: list[Order] = []
            for order in orders:
                row = rows.get(order.order_id)
                if row is None and not self.is_watched(order):
                    silent.append(order)
                elif row is None or _changed(row, order):
                    await self._ingest(order, watched=None, report=report)
            if silent:
                new = await self.repo.insert_missing(silent, watched=lambda o: False, role_of=_default_role)
                if report is not None:
                    report.new_orders += len(new)

    async def ingest(self, order: Order, *, watched: bool | None = None, report: SyncReport | None = None) -> None:
        """Apply one order as the exchange reports it (open list, history, detail or stream). Its
        events are delivered after the ingest lock is released: the next update, and the sibling
        cancel it may need, never wait on the notifier."""
        async with self.events.held_while(self._ingest_lock):
            await self._ingest(order, watched=watched, report=report)

    async def _ingest(self, order: Order, *, watched: bool | None, report: SyncReport | None) -> None:
        row = await self.repo.get(order.order_id)
        if row is None:
            role, group_id = await self._classify(order)
            watched = watched if watched is not None else self.is_watched(order)
            previous_status: OrderStatus | None = None
            previous_filled = ZERO
            # Marked due in the very write that records the fill: a crash right after loses nothing.
            due = watched and self._protects(order, role, previous_status, previous_filled)
            row = await self.repo.insert(order, role=role, source=guess_source(order.client_oid),
                                         watched=watched, group_id=group_id, protection_due=due)
            if report is not None:
                report.new_orders += 1
        else:
            if not _changed(row, order):
                return
            previous_status, previous_filled = OrderStatus(row.status), row.filled_quantity
            if previous_status.is_final and order.status.is_open:
                return        # a stale report (stream replay) must not reopen a finished order
            due = row.watched and self._protects(order, row.role, previous_status, previous_filled)
            await self.repo.update(row, order, **({"protection_due": True} if due else {}))
            if report is not None:
                report.changed_orders += 1
        if not row.watched:
            return
        await self._emit(row, order, previous_status, previous_filled)
        if self.protection is None:
            return
        role = OrderRole(row.role)
        if role in (OrderRole.STOP_LOSS, OrderRole.TAKE_PROFIT):
            await self.protection.on_leg_change(row, order, previous_filled)
        elif row.protection_due:
            await self.protection.protect(row)

    def _protects(self, order: Order, role: str, previous_status: OrderStatus | None,
                  previous_filled: Decimal) -> bool:
        """Whether this change of a watched order leaves a part of a buy to protect: its fill grew
        (while it is still open, too: each part is protected as it fills), or it just ended with
        something filled (a remainder too small to place alone is planned then)."""
        if (self.protection is None or order.side is not Side.BUY or role not in _ENTRY_ROLES
                or order.filled_quantity <= 0):
            return False
        ended = order.status.is_final and (previous_status is None or not previous_status.is_final)
        if order.list_id:
            return ended     # an OTOCO's exits are the exchange's, live with the fill: adopted when it ends
        return ended or order.filled_quantity > previous_filled

    async def _classify(self, order: Order) -> tuple[str, str | None]:
        if order.client_oid:
            match = await self.groups.for_leg_client_oid(order.client_oid)
            if match is not None:
                group, role = match
                return role.value, group.id
        return _default_role(order), None

    async def _emit(self, row: OrderRecord, order: Order, previous_status: OrderStatus | None,
                    previous_filled: Decimal) -> None:
        common = dict(order_id=order.order_id, client_oid=order.client_oid, symbol=order.symbol, side=order.side)
        if order.filled_quantity > previous_filled:
            await self.events.publish(OrderFilled(
                **common, quantity=order.filled_quantity, price=order.avg_price or order.price,  # type: ignore[arg-type]
                partial=order.status is not OrderStatus.FILLED, role=row.role, mode=self.mode))
        if order.status is previous_status:
            return
        if order.status in (OrderStatus.CANCELED, OrderStatus.EXPIRED):
            await self.events.publish(OrderCanceled(
                **common, quantity=order.quantity, price=order.price or order.trigger_price,  # type: ignore[arg-type]
                role=row.role, mode=self.mode))
        elif order.status is OrderStatus.REJECTED:
            await self.events.publish(OrderRejected(
                **common, quantity=order.quantity, reason=order.reason or "rejected by the exchange",  # type: ignore[arg-type]
                mode=self.mode))

    # The order stream ----------------------------------------------------------------------

    async def follow_order_stream(self) -> None:
        """Apply pushes from the exchange's order stream until cancelled (the sync catches up on gaps)."""
        delay = 1.0
        while True:
            try:
                async for update in self.exchange.order_updates():
                    delay = 1.0
                    try:
                        if self.protection is not None:
                            # A protection leg's fill cancels its sibling before anything is stored,
                            # and nothing else of this push (database work) competes with that request:
                            # the reaction would wait for its outcome anyway.
                            cancel = self.protection.cancel_sibling_at_once(update.order)
                            if cancel is not None:
                                await asyncio.wait([cancel])
                        await self.ingest(update.order, watched=True)
                        if update.order.filled_quantity > 0:
                            await self._mirror_balances_after_fill()
                    except asyncio.CancelledError:
                        raise
                    except Exception:
                        log.exception("could not apply order update %s", update.order.order_id)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("order stream interrupted (%s); reconnecting in %.0f s", type(exc).__name__, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 60.0)


def _changed(row: OrderRecord, order: Order) -> bool:
    return (row.status != order.status.value or row.filled_quantity != order.filled_quantity
            or row.list_id != order.list_id)


def _default_role(order: Order) -> str:
    if guess_source(order.client_oid) == "manual":
        return OrderRole.MANUAL.value
    return OrderRole.ENTRY.value if order.side is Side.BUY else OrderRole.UNKNOWN.value
