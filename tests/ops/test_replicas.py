"""Two real replicas on one PostgreSQL database and one Redis: one leads, a killed leader is replaced
within two lease periods and its successor's first cycle catches up, a paused leader that wakes up
after being replaced writes nothing, and no order is ever placed twice.

Skipped without TEST_DATABASE_URL (PostgreSQL) and TEST_REDIS_URL; `make test`'s second pass runs them.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from bot.domain.orders import OrderType, Side
from bot.exchange.base import OrderRequest
from tests.ops.replicas import LEASE_SECONDS, Cluster, Replica, cluster, wait_until

pytestmark = [pytest.mark.lock, pytest.mark.timeout(240)]
D = Decimal


async def hand_buy(group: Cluster, client_oid: str, price: Decimal = D(99000)) -> str:
    hand = group.hand_client()
    try:
        order = await hand.create_order(OrderRequest(symbol="BTC_USDT", side=Side.BUY, order_type=OrderType.LIMIT,
                                                     client_oid=client_oid, quantity=D("0.01"), price=price))
    finally:
        await hand.close()
    return order.order_id


async def mirrored(group: Cluster, order_id: str, status: str | None = None) -> bool:
    rows = await group.query("SELECT status FROM orders WHERE exchange_order_id = $1", order_id)
    return bool(rows) and (status is None or rows[0]["status"] == status)


async def groups_for(group: Cluster, order_id: str) -> list[str]:
    rows = await group.query("SELECT state FROM oco_groups WHERE entry_exchange_order_id = $1", order_id)
    return [r["state"] for r in rows]


async def protected(group: Cluster, order_id: str) -> bool:
    """The buy's one group placed: a group is first stored "placing", then "active" once its orders
    stand (on a busy machine seconds apart)."""
    return await groups_for(group, order_id) == ["active"]


async def two_replicas(group: Cluster, **second_env: str) -> tuple[Replica, Replica]:
    first = await group.start_replica()
    leader = await group.leader()
    assert leader is first
    second = await group.start_replica(**second_env)
    await asyncio.sleep(LEASE_SECONDS)               # the second has tried, and lost, at least twice
    assert await group.leader() is first and not await second.is_leader()
    return first, second


def assert_no_order_twice(group: Cluster) -> None:
    repeated = {oid: n for oid, n in Counter(group.accepted_client_oids()).items() if n > 1}
    assert repeated == {}, f"orders placed twice: {repeated}"


async def assert_no_row_lost(group: Cluster) -> None:
    """Every order the exchange holds is in the database."""
    engine = group.sim.engine
    on_exchange = {o.order_id for o in engine.open_orders() + engine.history(start_ns=0, end_ns=2**63 - 1,
                                                                             limit=10**9)}
    stored = {r["exchange_order_id"] for r in await group.query("SELECT exchange_order_id FROM orders")}
    assert on_exchange - stored == set(), f"rows lost: {on_exchange - stored}"


async def test_only_the_leader_polls_telegram_and_runs_jobs(tmp_path: Path) -> None:
    async with cluster(tmp_path) as group:
        leader, follower = await two_replicas(group, LOG_FORMAT="json")
        await asyncio.sleep(6)                           # a sync tick at least
        lead, follow = await leader.health(), await follower.health()
        assert lead and follow
        assert lead["jobs"]["sync"]["last_started"] is not None
        assert all(job["last_started"] is None for job in follow["jobs"].values())
        assert group.emulator.calls_of("getUpdates", outcome="conflict") == []
        # Users are answered once (by the leader, the only poller); a daily report due goes out once.
        group.emulator.push_message(4242, "/start", language_code="en")
        await group.emulator.wait_for_call("sendMessage", timeout=15, where=lambda c: "Hello" in c.params["text"])
        await asyncio.sleep(1)
        texts = [c.params["text"] for c in group.emulator.calls_of("sendMessage")]
        assert sum("Hello" in t for t in texts) == 1
        assert sum("Daily report" in t for t in texts) <= 1
        # /metrics on each replica says who leads; the follower logs JSON lines; no secret anywhere.
        lead_metrics, follow_metrics = await leader.metrics(), await follower.metrics()
        assert "cryptobot_leader 1.0" in lead_metrics and "cryptobot_leader 0.0" in follow_metrics
        assert 'cryptobot_job_runs_total{job="sync",outcome="ok"}' in lead_metrics
        assert "cryptobot_order_stream_following 0.0" in follow_metrics
        for text in (lead_metrics, follow_metrics):
            assert group.sim.api_secret not in text and "REPLICA-TEST-TOKEN" not in text
        records = [json.loads(line) for line in follower.log().splitlines() if line.startswith("{")]
        assert records and all({"time", "level", "logger", "message", "pid"} <= set(r) for r in records)


async def test_a_killed_leader_is_replaced_and_its_successor_catches_up(tmp_path: Path) -> None:
    async with cluster(tmp_path) as group:
        leader, follower = await two_replicas(group)
        buy = await hand_buy(group, "hand-kill-1")
        await wait_until(lambda: mirrored(group, buy, "ACTIVE"), timeout=20, what="the buy mirrored as open")

        leader.kill()
        killed_at, killed_mono = time.time(), time.monotonic()
        await leader.process.wait()
        group.sim.set_price("BTC_USDT", D(98500))        # the buy fills while nobody leads

        new_leader = await group.leader(among=[follower], timeout=4 * LEASE_SECONDS)
        elected = time.time()

        async def first_job() -> float | None:
            report = await new_leader.health()
            started = report and report["jobs"].get("sync", {}).get("last_started")
            return datetime.fromisoformat(started).timestamp() if started else None

        first_job_at = await wait_until(first_job, timeout=10, what="the new leader's first job")
        handover = first_job_at - killed_at
        print(f"\nhand-over: kill -9 -> leader elected {elected - killed_at:.2f} s, "
              f"-> first job started {handover:.2f} s (lease {LEASE_SECONDS} s)")
        assert handover < 2 * LEASE_SECONDS + 0.5

        # Its first cycle caught up: the fill is mirrored and protected, once.
        await wait_until(lambda: mirrored(group, buy, "FILLED"), timeout=15, what="the fill mirrored")
        await wait_until(lambda: protected(group, buy), timeout=30, what="the buy protected")
        await asyncio.sleep(2)
        assert await groups_for(group, buy) == ["active"]
        assert len(group.writes("private/advanced/create-oco")) == 1
        assert_no_order_twice(group)
        await assert_no_row_lost(group)
        # Only the dead leader's own long poll (abandoned, from before the kill) was terminated, as
        # Telegram terminates it, by the new leader's first getUpdates.
        conflicts = group.emulator.calls_of("getUpdates", outcome="conflict")
        assert len(conflicts) <= 1 and all(c.at < killed_mono for c in conflicts)


async def test_a_paused_leader_that_wakes_up_replaced_writes_nothing(tmp_path: Path) -> None:
    async with cluster(tmp_path) as group:
        leader, follower = await two_replicas(group)
        buy = await hand_buy(group, "hand-pause-1")
        await wait_until(lambda: mirrored(group, buy, "ACTIVE"), timeout=20, what="the buy mirrored as open")

        # The leader reacts to the fill: before sending protection it reads the free balance; that
        # answer is slow, and the leader is paused while it waits: it wakes up with a placement half
        # done, long after its lease ended.
        balance_reads = len(group.sim.calls_to("private/user-balance"))
        group.sim.faults.latency("private/user-balance", 1.0, times=1)
        group.sim.set_price("BTC_USDT", D(98500))
        await wait_until(lambda: len(group.sim.calls_to("private/user-balance")) > balance_reads,
                         timeout=10, what="the leader reading the balance", interval=0.005)
        leader.pause()
        paused_at = time.time()

        new_leader = await group.leader(among=[follower], timeout=4 * LEASE_SECONDS)
        assert new_leader is follower
        await wait_until(lambda: groups_for(group, buy), timeout=15, what="the buy protected")
        await wait_until(lambda: len(group.writes("private/advanced/create-oco")) == 1, timeout=15,
                         what="the new leader's protection")
        stopped_for = time.time() - paused_at

        leader.resume()
        await wait_until(lambda: "leadership lost" in leader.log(), timeout=10, what="the old leader stepping down",
                         on_timeout=leader.log)
        await asyncio.sleep(3)
        print(f"\npaused {stopped_for:.1f} s; old leader after waking: "
              f"{'a write fenced off' if 'LeadershipLost' in leader.log() else 'duties stopped before writing'}")
        assert not await leader.is_leader() and await follower.is_leader()
        assert len(group.writes("private/advanced/create-oco")) == 1, "the woken leader sent protection again"
        assert len(group.writes("private/advanced/create-order")) == 0
        assert await groups_for(group, buy) == ["active"]
        assert_no_order_twice(group)
        await assert_no_row_lost(group)
