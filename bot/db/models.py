"""Tortoise models for the whole product. Money columns are DECIMAL(38, 16): exact on SQLite and PG. Tortoise quantizes
in the default 28-digit decimal context, so 16 places leave 12 integer digits (1e12 units).

Every exchange-side row carries `mode` ("live" | "paper") and `account`, so paper and live data
never mix; exchange ids and client_oids are unique per (mode, account), so a sync writes each
order once.
"""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


def money(**kwargs: Any) -> Any:
    return fields.DecimalField(max_digits=38, decimal_places=16, **kwargs)


class TimestampMixin:
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)


class OrderRecord(TimestampMixin, Model):
    """An exchange order mirrored in the database (open, or final and kept forever)."""
    id = fields.BigIntField(primary_key=True)
    mode = fields.CharField(max_length=8)
    account = fields.CharField(max_length=64, default="main")
    exchange_order_id = fields.CharField(max_length=64)
    client_oid = fields.CharField(max_length=64, null=True)
    symbol = fields.CharField(max_length=32, db_index=True)
    side = fields.CharField(max_length=4)
    order_type = fields.CharField(max_length=24)
    status = fields.CharField(max_length=16, db_index=True)
    role = fields.CharField(max_length=16, default="unknown")
    source = fields.CharField(max_length=16, default="exchange")   # bot | manual | exchange
    quantity = money()
    price = money(null=True)
    trigger_price = money(null=True)
    filled_quantity = money(default=0)
    avg_price = money(null=True)
    cumulative_value = money(default=0)
    fee = money(default=0)
    fee_currency = fields.CharField(max_length=16, null=True)
    list_id = fields.CharField(max_length=64, null=True)
    reason = fields.CharField(max_length=255, null=True)
    oco_group: fields.ForeignKeyNullableRelation[OcoGroupRecord] = fields.ForeignKeyField(
        "models.OcoGroupRecord", related_name="legs", null=True, on_delete=fields.SET_NULL)
    exchange_created_at = fields.DatetimeField(null=True)
    exchange_updated_at = fields.DatetimeField(null=True)
    create_time_ns = fields.BigIntField(default=0, db_index=True)
    # True when the bot saw this order open or fill live (not first seen in back-fill/first sync):
    # only such buys trigger automatic protection.
    watched = fields.BooleanField(default=False)
    # A watched buy whose newly filled quantity the protection has not dealt with yet: set in the
    # same write as the fill, cleared once a protection tranche stands for it (crash-safe, and each
    # cycle reads only these rows, not every filled buy ever).
    protection_due = fields.BooleanField(default=False, db_default=False)

    class Meta:
        table = "orders"
        unique_together = (("mode", "account", "exchange_order_id"), ("mode", "account", "client_oid"))
        # The time index serves the history lists (keyset pages by creation time, then id); the group
        # index finds a group's legs without reading every stored order; the last, the buys whose
        # fill waits for protection.
        indexes = (("mode", "account", "status"), ("mode", "account", "symbol", "status"),
                   ("mode", "account", "create_time_ns", "id"), ("oco_group_id",),
                   ("mode", "account", "protection_due"))


class OcoGroupRecord(TimestampMixin, Model):
    """A stop-loss + take-profit pair protecting one filled buy, or one tranche of it.

    A buy that fills in parts gets a group per newly filled part (tranche 0, 1, ...)."""
    id = fields.CharField(max_length=40, primary_key=True)
    mode = fields.CharField(max_length=8)
    account = fields.CharField(max_length=64, default="main")
    symbol = fields.CharField(max_length=32, db_index=True)
    # The buy protected, on its first tranche only: unique, the guard against protecting a buy twice.
    # Later tranches (a buy filled in parts) leave it empty; `entry_order_id` names the buy on all.
    entry_exchange_order_id = fields.CharField(max_length=64, null=True)
    entry_order_id = fields.CharField(max_length=64, null=True)
    tranche = fields.IntField(default=0, db_default=0)
    state = fields.CharField(max_length=24, db_index=True)
    quantity = money()
    # The part of the entry's fill this group stands for (what it was asked to protect; `quantity` is
    # what it could place).
    entry_quantity = money(default=0, db_default=0)
    entry_price = money()
    stop_loss_price = money()
    take_profit_price = money()
    native_list_id = fields.CharField(max_length=64, null=True)
    stop_loss_client_oid = fields.CharField(max_length=64, null=True)
    take_profit_client_oid = fields.CharField(max_length=64, null=True)
    exit_leg = fields.CharField(max_length=16, null=True)
    exit_price = money(null=True)
    pnl = money(null=True)
    failure_reason = fields.CharField(max_length=255, null=True)
    closed_at = fields.DatetimeField(null=True)
    legs: fields.ReverseRelation[OrderRecord]

    class Meta:
        table = "oco_groups"
        unique_together = (("mode", "account", "entry_exchange_order_id"),)
        # Indexes only (no column change): on SQLite, altering a column rebuilds the table. The state
        # index serves each sync cycle's look for groups left placing or active: a few, among every
        # group ever closed (the (mode, account) prefix of another index would read them all).
        indexes = (("mode", "account", "entry_order_id"), ("stop_loss_client_oid",), ("take_profit_client_oid",),
                   ("mode", "account", "state"))


class WatchlistEntry(TimestampMixin, Model):
    id = fields.IntField(primary_key=True)
    symbol = fields.CharField(max_length=32, unique=True)
    trade_enabled = fields.BooleanField(default=False)     # Trade=YES
    alert_enabled = fields.BooleanField(default=False)     # Alert=YES
    margin_enabled = fields.BooleanField(default=False)    # Margin=YES
    amount_usd = money(default=0)
    stop_loss_percent = money(default=3)
    take_profit_percent = money(default=3)
    max_open_orders = fields.IntField(default=3)
    min_price_move_percent = money(default=3)
    timeframe = fields.CharField(max_length=8, default="1h")

    class Meta:
        table = "watchlist"


class SignalRecord(Model):
    id = fields.BigIntField(primary_key=True)
    symbol = fields.CharField(max_length=32, db_index=True)
    decision = fields.CharField(max_length=8)              # BUY | SELL | WAIT
    price = money()
    reasons: Any = fields.JSONField(default=list)          # English sentences, for logs and the API
    # The same reasons as [{"key", "values"}] (bot.domain.reasons), worded in each reader's language;
    # empty on rows from before it existed (their sentences are shown as stored).
    explained: Any = fields.JSONField(default=list)
    indicators: Any = fields.JSONField(default=dict)
    candle_time = fields.DatetimeField(null=True)
    decided_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "signals"
        # A decision's neighbours of the same coin (the retention's roll-up), on PostgreSQL too.
        indexes = (("symbol", "id"),)


class StrategyState(Model):
    """What the strategy tracks continuously per coin (e.g. the 3 % reference price)."""
    symbol = fields.CharField(max_length=32, primary_key=True)
    state: Any = fields.JSONField(default=dict)
    last_decision = fields.CharField(max_length=8, null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "strategy_state"


class IndicatorSnapshot(Model):
    id = fields.BigIntField(primary_key=True)
    symbol = fields.CharField(max_length=32)
    timeframe = fields.CharField(max_length=8)
    candle_time = fields.DatetimeField(null=True)
    values: Any = fields.JSONField(default=dict)
    stale = fields.BooleanField(default=False)
    stale_reason = fields.CharField(max_length=255, null=True)
    computed_at = fields.DatetimeField()

    class Meta:
        table = "indicator_snapshots"
        # The second: where the retention's cut-off falls.
        indexes = (("symbol", "timeframe", "computed_at"), ("computed_at",))


class AutoOrderDecision(Model):
    """Each automatic-order attempt: placed, or refused with the rule that blocked it."""
    id = fields.BigIntField(primary_key=True)
    mode = fields.CharField(max_length=8)
    symbol = fields.CharField(max_length=32, db_index=True)
    allowed = fields.BooleanField()
    rule = fields.CharField(max_length=40, null=True)
    detail = fields.TextField(default="")                  # English
    args: Any = fields.JSONField(default=dict)            # the rule's template values (bot.domain.reasons)
    price = money(null=True)
    client_oid = fields.CharField(max_length=64, null=True)
    decided_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "auto_order_decisions"


class BalanceRecord(Model):
    id = fields.BigIntField(primary_key=True)
    mode = fields.CharField(max_length=8)
    account = fields.CharField(max_length=64, default="main")
    asset = fields.CharField(max_length=16)
    total = money()
    free = money()
    locked = money()
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "balances"
        unique_together = (("mode", "account", "asset"),)


class PortfolioSnapshot(Model):
    id = fields.BigIntField(primary_key=True)
    mode = fields.CharField(max_length=8)
    account = fields.CharField(max_length=64, default="main")
    taken_at = fields.DatetimeField(db_index=True)
    total_usd = money()
    unpriced_assets: Any = fields.JSONField(default=list)
    positions: Any = fields.JSONField(default=list)   # [{asset, quantity, price|null, usd_value|null}]

    class Meta:
        table = "portfolio_snapshots"


class User(TimestampMixin, Model):
    telegram_id = fields.BigIntField(primary_key=True)
    language = fields.CharField(max_length=8, null=True)
    timezone = fields.CharField(max_length=64, null=True)
    daily_alert_time = fields.CharField(max_length=5, null=True)
    notify_fills = fields.BooleanField(default=True)
    notify_signals = fields.BooleanField(default=True)
    notify_protection = fields.BooleanField(default=True)
    notify_daily = fields.BooleanField(default=True)
    # Per event kind ("fill", "protection", "oco_closed", "signal", "daily_report"): "on" | "silent" | "off";
    # a kind not listed is "on".
    notification_levels: Any = fields.JSONField(default=dict)
    default_stop_loss_percent = money(null=True)     # null: the coin's / the product's default
    default_take_profit_percent = money(null=True)

    class Meta:
        table = "users"


class PendingAction(Model):
    """An action that touches the exchange, previewed and waiting for its owner's confirmation.

    Its id becomes the client_oid of what it places, so a second Confirm (or one from another
    device) finds the same order instead of placing another."""
    id = fields.CharField(max_length=24, primary_key=True)
    telegram_id = fields.BigIntField(db_index=True)
    kind = fields.CharField(max_length=24)              # protect | cancel_order | cancel_group
    payload: Any = fields.JSONField(default=dict)
    mode = fields.CharField(max_length=8)
    state = fields.CharField(max_length=12, default="pending")   # pending | running | done | failed | canceled
    result: Any = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    decided_at = fields.DatetimeField(null=True)

    class Meta:
        table = "pending_actions"


class DailyReportSent(Model):
    """One row per user and local day: the report is sent once even across restarts and replicas."""
    id = fields.BigIntField(primary_key=True)
    telegram_id = fields.BigIntField()
    day = fields.DateField()
    sent_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "daily_reports_sent"
        unique_together = (("telegram_id", "day"),)


class SyncCursor(Model):
    name = fields.CharField(max_length=96, primary_key=True)   # e.g. "paper:main:order_history"
    value = fields.BigIntField(default=0)
    data: Any = fields.JSONField(default=dict)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "sync_cursors"


class AuditLog(Model):
    """Every action taken on the exchange, with its outcome. Never holds a secret."""
    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField(auto_now_add=True, db_index=True)
    mode = fields.CharField(max_length=8)
    account = fields.CharField(max_length=64, default="main")
    action = fields.CharField(max_length=32)
    symbol = fields.CharField(max_length=32, null=True)
    client_oid = fields.CharField(max_length=64, null=True, db_index=True)
    exchange_order_id = fields.CharField(max_length=64, null=True)
    request: Any = fields.JSONField(default=dict)
    outcome = fields.CharField(max_length=16)          # ok | refused | error | ambiguous
    detail = fields.TextField(default="")

    class Meta:
        table = "audit_log"


class NotificationOutbox(Model):
    """Events waiting to reach users: a crash between event and send loses nothing."""
    id = fields.BigIntField(primary_key=True)
    kind = fields.CharField(max_length=40)
    payload: Any = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)
    sent_at = fields.DatetimeField(null=True, db_index=True)
    attempts = fields.IntField(default=0)
    last_error = fields.CharField(max_length=255, null=True)

    class Meta:
        table = "notification_outbox"


class PaperOrder(Model):
    """The paper exchange's own order book (its state survives a restart)."""
    order_id = fields.CharField(max_length=32, primary_key=True)
    account = fields.CharField(max_length=64, default="main")
    client_oid = fields.CharField(max_length=64)
    symbol = fields.CharField(max_length=32)
    status = fields.CharField(max_length=16, db_index=True)
    data: Any = fields.JSONField()
    create_time_ns = fields.BigIntField(db_index=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "paper_orders"
        unique_together = (("account", "client_oid"),)


class PaperBalance(Model):
    id = fields.IntField(primary_key=True)
    account = fields.CharField(max_length=64, default="main")
    asset = fields.CharField(max_length=16)
    total = money()
    locked = money()

    class Meta:
        table = "paper_balances"
        unique_together = (("account", "asset"),)


class PaperState(Model):
    """Engine-wide paper state (id counters, order lists, market clock) as one JSON document."""
    account = fields.CharField(max_length=64, primary_key=True)
    data: Any = fields.JSONField(default=dict)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "paper_state"


class LockRecord(Model):
    """In-database lease used for single-run jobs when no Redis is configured across processes."""
    name = fields.CharField(max_length=96, primary_key=True)
    owner = fields.CharField(max_length=64)
    expires_at = fields.DatetimeField()

    class Meta:
        table = "locks"
