"""Storage on SQLite and (second pass) PostgreSQL: migrations, exact decimals, unique keys."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from tortoise import Tortoise
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from bot.db import models as m
from bot.db.config import connection_label, migrate

pytestmark = pytest.mark.storage


async def test_migrations_are_idempotent(db: str) -> None:
    await migrate(db)   # second application changes nothing and does not fail
    conn = Tortoise.get_connection(connection_label(db))
    rows = await conn.execute_query_dict("SELECT COUNT(*) AS n FROM tortoise_migrations")
    assert rows[0]["n"] >= 1


async def test_money_is_exact_decimal(db: str) -> None:
    qty = Decimal("0.0000001234567890")
    price = Decimal("123456789012.1234567890123456")
    row = await m.OrderRecord.create(mode="paper", exchange_order_id="1", symbol="BTC_USDT", side="BUY",
                                     order_type="LIMIT", status="ACTIVE", quantity=qty, price=price)
    again = await m.OrderRecord.get(id=row.id)
    assert isinstance(again.quantity, Decimal)
    assert again.quantity == qty and again.price == price


async def test_exchange_order_id_is_written_once_per_mode_and_account(db: str) -> None:
    base = dict(symbol="ETH_USDT", side="SELL", order_type="LIMIT", status="FILLED", quantity=Decimal(1))
    await m.OrderRecord.create(mode="live", exchange_order_id="777", **base)
    with pytest.raises(IntegrityError):
        async with in_transaction(connection_label(db)):
            await m.OrderRecord.create(mode="live", exchange_order_id="777", **base)
    # The same id in paper mode is another order: paper and live never mix.
    await m.OrderRecord.create(mode="paper", exchange_order_id="777", **base)
    assert await m.OrderRecord.filter(exchange_order_id="777").count() == 2


async def test_client_oid_is_unique_but_may_be_absent(db: str) -> None:
    base = dict(mode="paper", symbol="ETH_USDT", side="BUY", order_type="LIMIT", status="ACTIVE", quantity=Decimal(1))
    await m.OrderRecord.create(exchange_order_id="a", client_oid=None, **base)
    await m.OrderRecord.create(exchange_order_id="b", client_oid=None, **base)
    await m.OrderRecord.create(exchange_order_id="c", client_oid="cb-x", **base)
    with pytest.raises(IntegrityError):
        async with in_transaction(connection_label(db)):
            await m.OrderRecord.create(exchange_order_id="d", client_oid="cb-x", **base)


async def test_oco_group_links_its_legs(db: str) -> None:
    group = await m.OcoGroupRecord.create(id="g1", mode="paper", symbol="BTC_USDT", entry_exchange_order_id="10",
                                          state="active", quantity=Decimal("0.01"), entry_price=Decimal(100000),
                                          stop_loss_price=Decimal(97000), take_profit_price=Decimal(103000))
    for role, oid in (("stop_loss", "11"), ("take_profit", "12")):
        await m.OrderRecord.create(mode="paper", exchange_order_id=oid, symbol="BTC_USDT", side="SELL",
                                   order_type="LIMIT", status="ACTIVE", role=role, quantity=Decimal("0.01"),
                                   oco_group=group)
    legs = await m.OrderRecord.filter(oco_group_id="g1").order_by("exchange_order_id")
    assert [leg.role for leg in legs] == ["stop_loss", "take_profit"]


async def test_every_model_round_trips(db: str) -> None:
    now = datetime.now(UTC)
    await m.WatchlistEntry.create(symbol="SOL_USDT", trade_enabled=True, alert_enabled=True, amount_usd=Decimal(50))
    await m.SignalRecord.create(symbol="SOL_USDT", decision="BUY", price=Decimal("142.5"), reasons=["RSI 28 < 30"],
                                indicators={"rsi": "28"}, decided_at=now)
    await m.StrategyState.create(symbol="SOL_USDT", state={"reference_price": "140"})
    await m.IndicatorSnapshot.create(symbol="SOL_USDT", timeframe="1h", values={"rsi": "28"}, computed_at=now)
    await m.AutoOrderDecision.create(mode="paper", symbol="SOL_USDT", allowed=False, rule="max_open_per_symbol",
                                     detail="3 open", decided_at=now)
    await m.BalanceRecord.create(mode="paper", asset="USDT", total=Decimal(10000), free=Decimal(9000),
                                 locked=Decimal(1000))
    await m.PortfolioSnapshot.create(mode="paper", taken_at=now, total_usd=Decimal("10000.5"),
                                     positions=[{"asset": "USDT", "quantity": "10000"}])
    await m.User.create(telegram_id=2**40, language="es", timezone="Europe/Madrid")
    await m.SyncCursor.create(name="paper:main:order_history", value=1_700_000_000_000_000_000)
    await m.AuditLog.create(mode="paper", action="create_order", outcome="ok", request={"symbol": "SOL_USDT"})
    await m.NotificationOutbox.create(kind="ProtectionFailed", payload={"symbol": "SOL_USDT"})

    entry = await m.WatchlistEntry.get(symbol="SOL_USDT")
    assert entry.stop_loss_percent == Decimal(3) and entry.take_profit_percent == Decimal(3)
    assert entry.max_open_orders == 3 and entry.min_price_move_percent == Decimal(3)
    user = await m.User.get(telegram_id=2**40)   # Telegram ids exceed 32 bits
    assert user.language == "es" and user.notify_fills
    cursor = await m.SyncCursor.get(name="paper:main:order_history")
    assert cursor.value == 1_700_000_000_000_000_000
    signal = await m.SignalRecord.get(symbol="SOL_USDT")
    assert signal.reasons == ["RSI 28 < 30"] and signal.decided_at.tzinfo is not None


async def test_balances_are_one_row_per_asset(db: str) -> None:
    await m.BalanceRecord.create(mode="paper", asset="BTC", total=Decimal(1), free=Decimal(1), locked=Decimal(0))
    with pytest.raises(IntegrityError):
        async with in_transaction(connection_label(db)):
            await m.BalanceRecord.create(mode="paper", asset="BTC", total=Decimal(2), free=Decimal(2),
                                         locked=Decimal(0))


async def test_sqlite_commits_without_waiting_for_the_disk(db: str) -> None:
    if not db.startswith("sqlite"):
        pytest.skip("SQLite only")
    conn = Tortoise.get_connection(connection_label(db))
    journal = await conn.execute_query_dict("PRAGMA journal_mode")
    synchronous = await conn.execute_query_dict("PRAGMA synchronous")
    # WAL with synchronous=NORMAL (1): no fsync per commit, and never a corrupt file.
    assert (journal[0]["journal_mode"], synchronous[0]["synchronous"]) == ("wal", 1)
