"""Losing a dependency, with real replicas: PostgreSQL unreachable for 30 s in the middle of the work,
and Redis unreachable. The bot keeps running and retrying, sends no order it could not record,
/healthz says what is down (503 while the database is), and when the dependency is back it resumes:
every order on the exchange in the database, each fill protected once, nothing placed twice.

A TCP proxy the test controls sits between the replicas and the service.
"""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.ops.replicas import LEASE_SECONDS, Cluster, Replica, cluster, wait_until
from tests.ops.tcp_proxy import TcpProxy
from tests.ops.test_replicas import (
    assert_no_order_twice,
    assert_no_row_lost,
    groups_for,
    hand_buy,
    mirrored,
    protected,
)

pytestmark = [pytest.mark.lock, pytest.mark.timeout(300)]
D = Decimal
DATABASE_OUTAGE_SECONDS = 30


def proxy_for(url: str) -> TcpProxy:
    parts = urlsplit(url)
    return TcpProxy(parts.hostname or "127.0.0.1", parts.port or 0)


async def down(replica: Replica, name: str) -> bool:
    report = await replica.health()
    return bool(report) and name in report.get("down", [])


async def healthy(replica: Replica) -> bool:
    report = await replica.health()
    return bool(report) and report.get("status") == "ok"


async def status_code(replica: Replica) -> int:
    from aiohttp import ClientSession, ClientTimeout

    async with ClientSession(timeout=ClientTimeout(total=10)) as session, \
            session.get(f"http://127.0.0.1:{replica.web_port}/healthz") as response:
        return response.status


def placements(group: Cluster) -> int:
    """Orders the bot sent (the test's own hand orders left out)."""
    by_bot = [p for p in group.writes("private/create-order") if not str(p.get("client_oid", "")).startswith("hand-")]
    return len(by_bot) + sum(len(group.writes(m)) for m in ("private/advanced/create-oco",
                                                             "private/advanced/create-order",
                                                             "private/advanced/create-otoco"))


@pytest.mark.parametrize("mode", ["reset", "blackhole"])
async def test_database_unreachable_for_30_s_mid_cycle(tmp_path: Path, mode: str) -> None:
    async with cluster(tmp_path) as group:
        proxy = proxy_for(group.db_url)
        await proxy.start()
        try:
            replica = await group.start_replica(DATABASE_URL=proxy.url(group.db_url))
            await group.leader()
            buys = [await hand_buy(group, f"hand-db-{n}", price=D(99000 - 500 * n)) for n in range(3)]
            for buy in buys:
                await wait_until(lambda b=buy: mirrored(group, b, "ACTIVE"), timeout=20, what="buys mirrored")
            placed_before = placements(group)

            # The database goes away in the middle of the work; meanwhile a buy fills and more orders
            # are placed by hand on the exchange.
            proxy.cut(mode)
            cut_at = time.monotonic()
            print(f"\ncut ({mode}) at {time.strftime('%H:%M:%S')}")
            group.sim.set_price("BTC_USDT", D(98800))                   # fills the first buy only
            late = [await hand_buy(group, f"hand-late-{n}", price=D(90000 - 100 * n)) for n in range(2)]
            await wait_until(lambda: down(replica, "database"), timeout=15, what="/healthz naming the database",
                             on_timeout=replica.log)
            assert await status_code(replica) == 503
            while time.monotonic() - cut_at < DATABASE_OUTAGE_SECONDS:
                assert replica.process.returncode is None, replica.log()[-3000:]
                assert placements(group) == placed_before, "an order was sent that could not be recorded"
                await asyncio.sleep(1)

            proxy.restore()
            restored_at = time.monotonic()
            print(f"restored at {time.strftime('%H:%M:%S')}")
            await wait_until(lambda: healthy(replica), timeout=30, what="/healthz ok again", on_timeout=replica.log)
            await wait_until(lambda: mirrored(group, buys[0], "FILLED"), timeout=30, what="the fill mirrored",
                             on_timeout=replica.log)
            await wait_until(lambda: protected(group, buys[0]), timeout=30, what="the fill protected",
                             on_timeout=replica.log)
            for order in late:
                await wait_until(lambda o=order: mirrored(group, o), timeout=30, what="late orders mirrored")
            print(f"\ndatabase {mode} {DATABASE_OUTAGE_SECONDS} s: back to ok "
                  f"{time.monotonic() - restored_at:.1f} s after it returned")
            await asyncio.sleep(2)
            assert await groups_for(group, buys[0]) == ["active"]
            assert [await groups_for(group, b) for b in buys[1:]] == [[], []]
            assert len(group.writes("private/advanced/create-oco")) == 1
            assert_no_order_twice(group)
            await assert_no_row_lost(group)
            assert replica.process.returncode is None
        finally:
            await proxy.close()


async def test_redis_unreachable_then_back(tmp_path: Path) -> None:
    async with cluster(tmp_path) as group:
        proxy = proxy_for(group.redis_url)
        await proxy.start()
        try:
            redis_url = proxy.url(group.redis_url)
            first = await group.start_replica(REDIS_URL=redis_url)
            await group.leader()
            second = await group.start_replica(REDIS_URL=redis_url)
            buy = await hand_buy(group, "hand-redis-1")
            await wait_until(lambda: mirrored(group, buy, "ACTIVE"), timeout=20, what="the buy mirrored")

            proxy.cut("reset")
            for replica in (first, second):
                await wait_until(lambda r=replica: down(r, "redis"), timeout=15, what="/healthz naming redis")
            # Nobody can prove it leads: after one lease nobody runs the duties.
            await wait_until(lambda: _no_leader(group), timeout=4 * LEASE_SECONDS, what="no leader without Redis")
            group.sim.set_price("BTC_USDT", D(98500))                   # a fill while nobody leads
            await asyncio.sleep(3 * LEASE_SECONDS)
            assert await _no_leader(group)
            assert len(group.writes("private/advanced/create-oco")) == 0
            assert first.process.returncode is None and second.process.returncode is None

            proxy.restore()
            back = time.monotonic()
            leader = await group.leader(timeout=6 * LEASE_SECONDS)
            print(f"\nredis back: leader in {time.monotonic() - back:.1f} s ({leader.name})")
            await wait_until(lambda: protected(group, buy), timeout=30, what="the fill protected")
            await asyncio.sleep(2)                                       # and nothing more comes of it
            assert await groups_for(group, buy) == ["active"]
            assert len(group.writes("private/advanced/create-oco")) == 1
            assert_no_order_twice(group)
            await assert_no_row_lost(group)
            for replica in (first, second):
                await wait_until(lambda r=replica: healthy(r), timeout=15, what="/healthz ok again")
        finally:
            await proxy.close()


async def _no_leader(group: Cluster) -> bool:
    return not any([await r.is_leader() for r in group.replicas])
