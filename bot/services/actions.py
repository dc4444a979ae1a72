"""Actions that touch the exchange: a preview first, then its owner's confirmation within 5 minutes.

Independent of Telegram: the bot's buttons and the Mini App's `POST /api/actions/...` call the same
methods with a user id. The preview is stored (PendingAction) with the exact numbers it showed; the
confirmation places or cancels exactly that. Its id is the protection group's id (so the legs'
client_oids follow from it): pressing Confirm twice, or on two devices, or on two replicas, runs it
once (one conditional write claims it), and even a run cut off by a crash finds on the exchange
what it already placed instead of placing it again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bot.db.repositories import (
    OcoGroupRepository,
    OrderRecord,
    OrderRepository,
    PendingActionRepository,
    WatchlistRepository,
    group_id_of,
)
from bot.domain.actions import (
    ACTION_TTL,
    ActionKind,
    ActionPreview,
    ActionRefused,
    ActionResult,
    ActionState,
    CancelDetails,
    CompleteDetails,
    OrderToCancel,
    Outcome,
    ProtectDetails,
    new_action_id,
    result_from_json,
)
from bot.domain.instrument import Instrument
from bot.domain.oco import GroupState, leg_client_oid
from bot.domain.orders import Order, OrderRole, OrderStatus
from bot.domain.protection import ProtectionPlan, protection_prices
from bot.exchange.base import Exchange
from bot.exchange.errors import ExchangeError, ExchangeUnavailable, OrderNotFound, UnknownInstrument
from bot.services.completion import ProtectionCompletion
from bot.services.portfolio import PortfolioService
from bot.services.protection import ProtectionService
from bot.services.user_settings import UserSettingsService

log = logging.getLogger(__name__)

Mirror = Callable[[Order], Awaitable[None]]
Clock = Callable[[], datetime]
# A run still "running" after this long was cut off (a crash, a lost replica): its owner may run it again.
STALE_RUN = timedelta(minutes=2)
QUOTE_PREFERENCE = ("USDT", "USD", "USDC")


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ActionService:
    def __init__(self, exchange: Exchange, protection: ProtectionService, portfolio: PortfolioService,
                 user_settings: UserSettingsService, *, allowed_users: Iterable[int],
                 actions: PendingActionRepository | None = None, watchlist: WatchlistRepository | None = None,
                 mirror: Mirror | None = None, clock: Clock = _utc_now, ttl: timedelta = ACTION_TTL) -> None:
        self.exchange = exchange
        self.protection = protection
        self.portfolio = portfolio
        self.user_settings = user_settings
        self.allowed = frozenset(allowed_users)
        self.actions = actions or PendingActionRepository()
        self.orders = OrderRepository(exchange.mode, portfolio.account)
        self.groups = OcoGroupRepository(exchange.mode, portfolio.account)
        self.watchlist = watchlist or WatchlistRepository()
        self.mirror = mirror
        self.clock = clock
        self.ttl = ttl
        self.completion = ProtectionCompletion(exchange, protection, self.orders, self.groups,
                                               self._mirror_client_oids)

    @property
    def mode(self) -> str:
        return self.exchange.mode

    # Previews ------------------------------------------------------------------------------

    async def preview_protect(self, user_id: int, position: str, group: str | None = None) -> ActionPreview:
        """Protect what is unprotected of `position` (an asset, "BTC", or a market, "BTC_USDT").

        A group standing as a stop-loss only (its take-profit refused) is completed instead: the one
        named by `group` (a "protection incomplete" message's button), or, when nothing of the asset
        is unprotected, any of the asset's (from /orders, the daily report, the Mini App)."""
        self._check_allowed(user_id)
        asset, _, wanted_quote = position.upper().partition("_")
        if group:
            lone = await self.completion.lone_stop(asset, group)
            if lone is not None:
                return await self._store(user_id, ActionKind.COMPLETE, complete=lone)
        unprotected = next((p for p in await self.portfolio.unprotected() if p.asset == asset), None)
        if unprotected is None:
            lone = await self.completion.lone_stop(asset, None)
            if lone is not None:
                return await self._store(user_id, ActionKind.COMPLETE, complete=lone)
            raise ActionRefused("nothing_unprotected", asset=asset)
        last_buy = (await self.orders.last_unprotected_buys([asset])).get(asset)
        symbol = await self._market_for(asset, wanted_quote or None, last_buy.symbol if last_buy else None)
        instrument = await self.exchange.instrument(symbol)
        market = (await self.exchange.ticker(symbol)).last
        stop_pct, take_pct = await self._percentages(user_id, symbol)
        reference, price = self._reference(instrument, last_buy, market, stop_pct, take_pct)
        if price is None:
            raise ActionRefused("no_price", symbol=symbol)
        plan = await self.protection.plan_holding(symbol, unprotected.quantity, price, stop_loss_percent=stop_pct,
                                                  take_profit_percent=take_pct)
        if not plan.places_anything:
            reason = plan.shortfall
            if reason is None:
                raise ActionRefused("nothing_unprotected", asset=asset)
            raise ActionRefused(reason.key, **reason.values)
        details = ProtectDetails(
            symbol=symbol, base=instrument.base, quote=instrument.quote, quantity=plan.quantity,
            unprotected=unprotected.quantity, stop_loss=plan.stop_loss_price, take_profit=plan.take_profit_price,
            stop_loss_percent=stop_pct, take_profit_percent=take_pct, reference_price=price, reference=reference,
            native_oco=self.protection.native_oco_expected,
            shortfall_key=plan.shortfall.key if plan.shortfall else None,
            shortfall_args=plan.shortfall.args if plan.shortfall else ())
        return await self._store(user_id, ActionKind.PROTECT, protect=details)

    async def preview_cancel_order(self, user_id: int, order_id: str) -> ActionPreview:
        self._check_allowed(user_id)
        row = await self.orders.get(order_id)
        if row is None or OrderStatus(row.status).is_final:
            raise ActionRefused("order_not_open", order=order_id)
        leaves = ""
        group_id = group_id_of(row)
        if group_id is not None and row.role in (OrderRole.STOP_LOSS.value, OrderRole.TAKE_PROFIT.value):
            group = await self.groups.get(group_id)
            if group is not None and not GroupState(group.state).is_final:
                leaves = "one_leg"
        base, quote = _split(row.symbol)
        details = CancelDetails(symbol=row.symbol, base=base, quote=quote, orders=(_to_cancel(row),),
                                group_id=group_id, leaves=leaves)
        return await self._store(user_id, ActionKind.CANCEL_ORDER, cancel=details)

    async def preview_cancel_group(self, user_id: int, group_id: str) -> ActionPreview:
        self._check_allowed(user_id)
        group = await self.groups.get(group_id)
        if group is not None and (group.mode, group.account) != (self.mode, self.orders.account):
            group = None
        legs = [leg for leg in await self.orders.legs_of(group_id) if not OrderStatus(leg.status).is_final] \
            if group is not None else []
        if group is None or not legs:
            raise ActionRefused("group_not_open")
        base, quote = _split(group.symbol)
        active = not GroupState(group.state).is_final
        details = CancelDetails(symbol=group.symbol, base=base, quote=quote,
                                orders=tuple(_to_cancel(leg) for leg in legs), group_id=group.id,
                                native_list_id=group.native_list_id, leaves="unprotected" if active else "",
                                group_quantity=group.quantity)
        return await self._store(user_id, ActionKind.CANCEL_GROUP, cancel=details)

    # Confirmation --------------------------------------------------------------------------

    async def get(self, action_id: str, user_id: int) -> ActionPreview | None:
        """The stored preview, for its owner only."""
        row = await self.actions.get(action_id)
        if row is None or row.telegram_id != user_id:
            return None
        return ActionPreview.from_payload(action_id=row.id, kind=row.kind, mode=row.mode, user_id=row.telegram_id,
                                          expires_at=row.expires_at, payload=row.payload)

    async def confirm(self, action_id: str, user_id: int) -> ActionResult:
        row = await self.actions.get(action_id)
        if row is None:
            return ActionResult(Outcome.NOT_FOUND)
        if row.telegram_id != user_id or user_id not in self.allowed:
            log.warning("user %s tried to confirm action %s of another user", user_id, action_id)
            return ActionResult(Outcome.FOREIGN)
        action = ActionPreview.from_payload(action_id=row.id, kind=row.kind, mode=row.mode, user_id=row.telegram_id,
                                            expires_at=row.expires_at, payload=row.payload)
        now = self.clock()
        if not await self.actions.claim(action_id, user_id, now=now, stale_before=now - STALE_RUN):
            return await self._why_not(action_id, action, now)
        if row.mode != self.mode:
            # Previewed in paper mode, confirmed after a restart in live mode (or the reverse): never.
            await self.actions.finish(action_id, ActionState.FAILED.value, {"outcome": Outcome.EXPIRED.value})
            return ActionResult(Outcome.EXPIRED, action)
        try:
            result = await self._run(action)
        except Exception:
            log.exception("action %s (%s) failed", action_id, action.kind.value)
            await self.actions.finish(action_id, ActionState.FAILED.value, {"outcome": Outcome.FAILED.value})
            raise
        state = ActionState.DONE if result.outcome in (Outcome.DONE, Outcome.UNCONFIRMED) else ActionState.FAILED
        await self.actions.finish(action_id, state.value, result.as_json())
        return result

    async def dismiss(self, action_id: str, user_id: int) -> ActionResult:
        """The owner pressed Cancel on the preview: nothing is sent."""
        row = await self.actions.get(action_id)
        if row is None:
            return ActionResult(Outcome.NOT_FOUND)
        if row.telegram_id != user_id:
            return ActionResult(Outcome.FOREIGN)
        action = ActionPreview.from_payload(action_id=row.id, kind=row.kind, mode=row.mode, user_id=row.telegram_id,
                                            expires_at=row.expires_at, payload=row.payload)
        if await self.actions.dismiss(action_id, user_id, now=self.clock()):
            return ActionResult(Outcome.DISMISSED, action)
        return await self._why_not(action_id, action, self.clock())

    async def _why_not(self, action_id: str, action: ActionPreview, now: datetime) -> ActionResult:
        """A claim that did not win: say what the action's state is, do nothing."""
        row = await self.actions.get(action_id)
        state = ActionState(row.state) if row is not None else ActionState.CANCELED
        if state is ActionState.DONE or state is ActionState.FAILED:
            stored = dict(row.result or {}) if row is not None else {}
            outcome = Outcome.ALREADY_DONE if state is ActionState.DONE else Outcome.FAILED
            return result_from_json(stored, action, outcome)
        if state is ActionState.RUNNING:
            return ActionResult(Outcome.IN_PROGRESS, action)
        if state is ActionState.CANCELED:
            return ActionResult(Outcome.DISMISSED, action)
        return ActionResult(Outcome.EXPIRED, action)     # still pending, so it was past its time

    async def _run(self, action: ActionPreview) -> ActionResult:
        if action.protect is not None:
            return await self._protect(action, action.protect)
        if action.complete is not None:
            return await self.completion.run(action, action.complete)
        assert action.cancel is not None
        return await self._cancel(action, action.cancel)

    async def _protect(self, action: ActionPreview, details: ProtectDetails) -> ActionResult:
        plan = ProtectionPlan(symbol=details.symbol, wanted_quantity=details.quantity, quantity=details.quantity,
                              entry_price=details.reference_price, stop_loss_price=details.stop_loss,
                              take_profit_price=details.take_profit)
        result = await self.protection.protect_holding(action.action_id, plan)
        await self._mirror_client_oids(leg_client_oid(action.action_id, role)
                                       for role in (OrderRole.STOP_LOSS, OrderRole.TAKE_PROFIT))
        if result.state not in (GroupState.PLACING, GroupState.FAILED):     # placed (and maybe ended since)
            return ActionResult(Outcome.DONE, action, native_oco=result.native, group_id=result.group_id)
        if result.state is GroupState.PLACING:
            return ActionResult(Outcome.UNCONFIRMED, action, reason_key="exchange_unavailable",
                                reason_args=(("exchange", result.reason or ""),), group_id=result.group_id)
        if result.reason_key:
            return ActionResult(Outcome.FAILED, action, reason_key=result.reason_key, reason_args=result.reason_args,
                                group_id=result.group_id)
        # A group that failed before (its detailed reason went out then, to every user): its English text.
        return ActionResult(Outcome.FAILED, action, reason_key="as_text", reason_args=(("text", result.reason or ""),),
                            group_id=result.group_id)

    async def _cancel(self, action: ActionPreview, details: CancelDetails) -> ActionResult:
        gone: list[str] = []
        ended: list[str] = []       # "not found": no longer open, for a reason read back below
        try:
            if details.native_list_id and action.kind is ActionKind.CANCEL_GROUP:
                try:
                    await self.exchange.cancel_oco(details.native_list_id, details.symbol)
                    gone = [o.order_id for o in details.orders]
                except OrderNotFound:       # the list ended already (a leg filled, or canceled elsewhere)
                    ended = [o.order_id for o in details.orders]
            else:
                for order in details.orders:
                    try:
                        await self.exchange.cancel_order(symbol=details.symbol, order_id=order.order_id)
                        gone.append(order.order_id)
                    except OrderNotFound:
                        ended.append(order.order_id)
        except ExchangeUnavailable as exc:
            await self._mirror_order_ids(o.order_id for o in details.orders)
            return ActionResult(Outcome.UNCONFIRMED, action, reason_key="exchange_unavailable",
                                reason_args=_exchange_args(exc), canceled=tuple(gone))
        except ExchangeError as exc:
            await self._mirror_order_ids(o.order_id for o in details.orders)
            return ActionResult(Outcome.FAILED, action, reason_key="cancel_refused", reason_args=_exchange_args(exc),
                                canceled=tuple(gone))
        await self._mirror_order_ids(gone)
        # What had ended before the cancel is told as it ended: a filled take-profit is not "canceled".
        filled, canceled_elsewhere = [], []
        for order_id in ended:
            found = await self._mirror_one(order_id=order_id)
            if found is not None and found.status is OrderStatus.FILLED:
                filled.append(order_id)
            else:
                canceled_elsewhere.append(order_id)     # or gone without a trace
        if not filled:      # else the fill ended the list, and the exchange canceled its other leg
            gone += canceled_elsewhere
        return ActionResult(Outcome.DONE, action, group_id=details.group_id, canceled=tuple(gone),
                            filled=tuple(filled))

    # Helpers -------------------------------------------------------------------------------

    def _check_allowed(self, user_id: int) -> None:
        if user_id not in self.allowed:
            raise ActionRefused("not_allowed")

    async def _store(self, user_id: int, kind: ActionKind, *, protect: ProtectDetails | None = None,
                     cancel: CancelDetails | None = None, complete: CompleteDetails | None = None) -> ActionPreview:
        preview = ActionPreview(action_id=new_action_id(), kind=kind, mode=self.mode, user_id=user_id,
                                expires_at=self.clock() + self.ttl, protect=protect, cancel=cancel,
                                complete=complete)
        await self.actions.create(action_id=preview.action_id, telegram_id=user_id, kind=kind.value,
                                  payload=preview.payload(), mode=self.mode, expires_at=preview.expires_at)
        return preview

    async def _market_for(self, asset: str, quote: str | None, last_symbol: str | None) -> str:
        """The market to sell `asset` on: the one asked for, else the last buy's, else a USD one."""
        instruments = await self.exchange.instruments()
        candidates = [f"{asset}_{quote}"] if quote else []
        candidates += [last_symbol] if last_symbol else []
        candidates += [f"{asset}_{q}" for q in QUOTE_PREFERENCE]
        for symbol in candidates:
            if symbol in instruments and instruments[symbol].tradable:
                return symbol
        raise ActionRefused("no_market", asset=asset)

    async def _percentages(self, user_id: int, symbol: str) -> tuple[Decimal, Decimal]:
        """The coin's own SL / TP % when it is on the watchlist (what its automatic protection uses),
        else the user's defaults (the product's 3 % / 3 % unless they chose others)."""
        coin = await self.watchlist.get(symbol)
        if coin is not None:
            return coin.stop_loss_percent, coin.take_profit_percent
        settings = await self.user_settings.get(user_id)
        return settings.stop_loss_percent, settings.take_profit_percent

    @staticmethod
    def _reference(instrument: Instrument, last_buy: OrderRecord | None, market: Decimal | None,
                   stop_pct: Decimal, take_pct: Decimal) -> tuple[str, Decimal | None]:
        """Around the last buy's price while the market is still between its stop and its target
        (a stop above the market would sell at once, and the exchange refuses it); else around the
        current price."""
        entry = (last_buy.avg_price or last_buy.price) if last_buy is not None else None
        if entry is not None and entry > 0:
            if market is None:
                return "entry", entry
            prices = protection_prices(instrument, entry, stop_loss_percent=stop_pct,
                                       take_profit_percent=take_pct)
            if prices.stop_loss < market < prices.take_profit:
                return "entry", entry
        return "market", market if market is not None and market > 0 else None

    async def _mirror_client_oids(self, client_oids: Iterable[str]) -> None:
        """What the action placed, into the mirror now, so /orders shows it without waiting for the sync."""
        if self.mirror is None:
            return
        for client_oid in client_oids:
            await self._mirror_one(client_oid=client_oid)

    async def _mirror_order_ids(self, order_ids: Iterable[str]) -> None:
        if self.mirror is None:
            return
        for order_id in order_ids:
            await self._mirror_one(order_id=order_id)

    async def _mirror_one(self, **key: str) -> Order | None:
        """Read an order back from the exchange into the mirror; the order, if it could be read."""
        try:
            order = await self.exchange.order_detail(**key)
        except (OrderNotFound, UnknownInstrument):
            return None
        except ExchangeError as exc:
            log.info("could not read back %s after an action (%s); the sync will", key, exc.reason)
            return None
        if order is not None and self.mirror is not None:
            await self.mirror(order)
        return order


def _exchange_args(exc: ExchangeError) -> tuple[tuple[str, str], ...]:
    return (("exchange", exc.reason), ("code", exc.code or ""))


def _split(symbol: str) -> tuple[str, str]:
    base, _, quote = symbol.partition("_")
    return base, quote or "USD"


def _to_cancel(row: OrderRecord) -> OrderToCancel:
    return OrderToCancel(order_id=row.exchange_order_id, client_oid=row.client_oid, side=row.side,
                         order_type=row.order_type, role=row.role, quantity=row.quantity - row.filled_quantity,
                         price=row.price, trigger_price=row.trigger_price)

