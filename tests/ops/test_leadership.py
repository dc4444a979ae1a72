"""Leadership among replicas on Redis (real Redis in the second pass): one leader at a time, a dead
leader replaced within two lease periods, and a leader that lost its lease fenced off: its exchange
writes and its jobs' commits are refused, while a user's own action still goes through."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from bot.domain.orders import OrderType, Side
from bot.exchange.base import OrderRequest
from bot.jobs.scheduler import JobScheduler
from bot.services.fenced_exchange import FencedExchange
from bot.services.leadership import LeadershipLost, RedisLeadership, leader_duty
from bot.services.locks import RedisJobLock
from tests.services.sim_exchange import simulated_exchange

pytestmark = pytest.mark.lock
D = Decimal


class Clock:
    """A process's monotonic clock; `pause` is what SIGSTOP does to it (time goes on, the process doesn't)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def pause(self, seconds: float) -> None:
        self.now += seconds


async def test_one_leader_and_every_new_leader_has_a_larger_token(redis_client) -> None:
    a, b = RedisLeadership(redis_client, ttl_seconds=5), RedisLeadership(redis_client, ttl_seconds=5)
    assert await a.try_acquire() and not await b.try_acquire()
    assert a.is_leader and not b.is_leader
    first = a.token
    await a.release()
    assert await b.try_acquire()
    assert b.token is not None and first is not None and b.token > first
    assert await b.renew() and not await a.renew()


async def test_a_paused_leader_is_fenced_by_its_own_clock_then_by_redis(redis_client) -> None:
    clock = Clock()
    paused = RedisLeadership(redis_client, ttl_seconds=0.5, clock=clock)
    successor = RedisLeadership(redis_client, ttl_seconds=0.5)
    assert await paused.try_acquire()
    assert await paused.check() == paused.token
    clock.pause(0.6)                      # SIGSTOP past its lease: Redis may still show its key
    with pytest.raises(LeadershipLost):
        await paused.check()
    assert not await paused.renew()       # and it never extends a lease it cannot vouch for
    await asyncio.sleep(0.6)
    assert await successor.try_acquire()
    clock.now = 0                         # even a clock that says "still valid" is refused by Redis
    paused._valid_until = 10**9
    with pytest.raises(LeadershipLost, match="Redis names"):
        await paused.check()


async def test_fenced_exchange_refuses_a_stale_duty_write_but_not_a_users_action(redis_client) -> None:
    clock = Clock()
    leader = RedisLeadership(redis_client, ttl_seconds=0.5, clock=clock)
    assert await leader.try_acquire()
    async with simulated_exchange({"USDT": D(100000)}) as sim:
        exchange = FencedExchange(sim.adapter)

        def buy(oid: str) -> OrderRequest:
            return OrderRequest(symbol="BTC_USDT", side=Side.BUY, order_type=OrderType.LIMIT, client_oid=oid,
                                quantity=D("0.001"), price=D(90000))

        with leader_duty(leader):
            await exchange.create_order(buy("duty-1"))          # the leader, in time
            clock.pause(1)                                      # then paused past its lease
            with pytest.raises(LeadershipLost):
                await exchange.create_order(buy("duty-2"))
            # A task created inside the duty is fenced too.
            with pytest.raises(LeadershipLost):
                await asyncio.create_task(exchange.create_order(buy("duty-3")))
        await exchange.create_order(buy("user-1"))              # a user's own action, outside any duty
        sent = [c.params.get("client_oid") for c in sim.sim.calls_to("private/create-order")]
        assert sent == ["duty-1", "user-1"]


async def test_a_follower_skips_ticks_and_a_run_that_outlives_leadership_is_not_committed(redis_client) -> None:
    clock = Clock()
    leader = RedisLeadership(redis_client, ttl_seconds=0.5, clock=clock)
    follower = RedisLeadership(redis_client, ttl_seconds=0.5)
    assert await leader.try_acquire()
    ran: list[str] = []

    async def job() -> None:
        ran.append("run")
        clock.pause(1)          # the leader stalls in the middle of the job

    on_follower = JobScheduler(lock=RedisJobLock(redis_client), leadership=follower)
    assert await on_follower.run_now("sync", job) is False
    assert on_follower.status["sync"].skipped == 1 and ran == []
    on_leader = JobScheduler(lock=RedisJobLock(redis_client), leadership=leader)
    assert await on_leader.run_now("sync", job) is False
    status = on_leader.status["sync"]
    assert ran == ["run"] and status.fenced == 1 and status.failures == 0
    assert "leadership lost" in (status.last_error or "")


async def test_a_dead_leader_is_replaced_within_two_lease_periods(redis_client) -> None:
    ttl = 0.6
    elected: dict[str, float] = {}
    loop = asyncio.get_running_loop()

    def replica(name: str) -> tuple[RedisLeadership, asyncio.Task[None]]:
        leadership = RedisLeadership(redis_client, ttl_seconds=ttl, owner=name)

        async def on_elected(token: int) -> None:
            elected[name] = loop.time()

        async def on_deposed(token: int) -> None:
            elected.pop(name, None)

        return leadership, asyncio.create_task(leadership.run(on_elected, on_deposed))

    first, first_loop = replica("first")
    await asyncio.sleep(0.1)
    second, second_loop = replica("second")
    try:
        await asyncio.sleep(ttl * 2)                 # renewals keep the first one leading
        assert list(elected) == ["first"] and not second.is_leader
        first_loop.cancel()                          # killed: no release, no more renewals
        died = loop.time()
        while "second" not in elected:
            assert loop.time() - died < 2 * ttl, "no new leader within two lease periods"
            await asyncio.sleep(0.01)
        assert second.token is not None and first.token is not None and second.token > first.token
    finally:
        second_loop.cancel()
        await asyncio.gather(first_loop, second_loop, return_exceptions=True)


async def test_job_locks_are_renewed_while_held_and_lapse_soon_after_a_crash(redis_client) -> None:
    holder, other = RedisJobLock(redis_client), RedisJobLock(redis_client)
    async with holder.hold("sync", 0.3) as held:
        assert held
        await asyncio.sleep(0.8)                     # well past the expiry: renewed
        async with other.hold("sync", 0.3) as second:
            assert not second
    crashed = redis_client.lock("cryptobot:lock:sync", timeout=0.3, blocking=False, thread_local=False)
    assert await crashed.acquire()                   # a holder that died: nobody renews it
    await asyncio.sleep(0.4)
    async with other.hold("sync", 0.3) as free:
        assert free
