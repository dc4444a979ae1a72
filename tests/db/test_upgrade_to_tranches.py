"""Migration 0006 on a database that already holds orders and groups (SQLite, where adding a
NOT NULL column to a table with rows needs a database default): existing groups become the
first tranche of their buy, and a watched filled buy left without protection is due."""

from __future__ import annotations

from pathlib import Path

from tortoise import Tortoise

from bot.db.config import close_db, connection_label, tortoise_config


async def test_upgrade_keeps_groups_and_marks_the_unprotected_buy_due(tmp_path: Path) -> None:
    from tortoise.migrations.api import migrate

    url = f"sqlite://{tmp_path}/upgrade.sqlite3"
    config = tortoise_config(url)
    try:
        await migrate(config=config, target="models.0005_order_group_index")
        conn = Tortoise.get_connection(connection_label(url))
        now = "2026-01-01 00:00:00+00:00"
        await conn.execute_query(
            "INSERT INTO oco_groups (created_at, updated_at, id, mode, account, symbol, entry_exchange_order_id, "
            "state, quantity, entry_price, stop_loss_price, take_profit_price) VALUES "
            f"('{now}', '{now}', 'g1', 'live', 'main', 'BTC_USDT', 'b1', 'active', '0.01', '100', '97', '103')")
        for order_id in ("b1", "b2"):
            await conn.execute_query(
                "INSERT INTO orders (created_at, updated_at, mode, account, exchange_order_id, symbol, side, "
                "order_type, status, role, source, quantity, filled_quantity, cumulative_value, fee, "
                f"create_time_ns, watched) VALUES ('{now}', '{now}', 'live', 'main', '{order_id}', 'BTC_USDT', "
                "'BUY', 'LIMIT', 'FILLED', 'manual', 'manual', '0.01', '0.01', '1000', '0', 0, 1)")
        await close_db()        # each migrate() sets up its own connections: one open at a time
        await migrate(config=config)
        conn = Tortoise.get_connection(connection_label(url))
        groups = await conn.execute_query_dict("SELECT id, entry_order_id, entry_quantity, tranche FROM oco_groups")
        assert [(g["id"], g["entry_order_id"], str(g["entry_quantity"]), g["tranche"]) for g in groups] == [
            ("g1", "b1", "0.01", 0)]
        due = await conn.execute_query_dict("SELECT exchange_order_id, protection_due FROM orders ORDER BY id")
        assert [(r["exchange_order_id"], bool(r["protection_due"])) for r in due] == [("b1", False), ("b2", True)]
    finally:
        await close_db()
