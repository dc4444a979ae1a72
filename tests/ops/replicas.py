"""Real `python -m bot run` replicas as subprocesses, on the machine's PostgreSQL and Redis, against the
crypto.com simulator and the Telegram Bot API emulator (both served by the test process over loopback).

The tests kill (-9), pause (SIGSTOP) and resume (SIGCONT) replicas and read what happened from three
places: each replica's /healthz (leadership, job runs), the simulator's record of every request, and
the shared database.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp import ClientSession, ClientTimeout, web

from bot.devtools.simulator_harness import SimulatorHandle, running_simulator
from bot.exchange.cryptocom import CryptoComExchange
from bot.exchange.simulator import SimulatorConfig
from bot.sandbox import BotApiEmulator
from tests.conftest import _migrated, _reset_postgres_schema
from tests.processes import UNPACED
from tests.services.sim_exchange import TEST_OPTIONS

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = 4242
TOKEN = "123456:REPLICA-TEST-TOKEN"
LEASE_SECONDS = 2.0


def services_or_skip() -> tuple[str, str]:
    db, redis = os.environ.get("TEST_DATABASE_URL"), os.environ.get("TEST_REDIS_URL")
    if not db or not redis or db.startswith("sqlite"):
        pytest.skip("replicas need the real PostgreSQL and Redis (TEST_DATABASE_URL, TEST_REDIS_URL)")
    return db, redis


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Replica:
    name: str
    process: asyncio.subprocess.Process
    web_port: int
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    async def health(self) -> dict[str, Any] | None:
        try:
            async with ClientSession(timeout=ClientTimeout(total=5)) as session, \
                    session.get(f"http://127.0.0.1:{self.web_port}/healthz") as response:
                return json.loads(await response.text())
        except (OSError, TimeoutError, ValueError):
            return None

    async def metrics(self) -> str:
        async with ClientSession(timeout=ClientTimeout(total=5)) as session, \
                session.get(f"http://127.0.0.1:{self.web_port}/metrics") as response:
            return await response.text()

    async def is_leader(self) -> bool:
        report = await self.health()
        return bool(report and report.get("leadership", {}).get("leader"))

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)

    def pause(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    async def stop(self) -> int:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGCONT)
                self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 30)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        return self.process.returncode or 0


@dataclass
class Cluster:
    db_url: str
    redis_url: str
    sim: SimulatorHandle
    emulator: BotApiEmulator
    telegram_url: str
    workdir: Path
    replicas: list[Replica] = field(default_factory=list)
    extra_env: dict[str, str] = field(default_factory=dict)

    def env(self, web_port: int, **overrides: str) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT), **UNPACED,
            "LIVE_TRADING": "true", "EXCHANGE_API_URL": self.sim.rest_url, "EXCHANGE_WS_URL": self.sim.ws_url,
            "EXCHANGE_CUSTOM_API_KEY": self.sim.api_key, "EXCHANGE_CUSTOM_API_SECRET": self.sim.api_secret,
            "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": self.telegram_url,
            "TELEGRAM_ALLOWED_USERS": str(ALLOWED), "DEFAULT_LANGUAGE": "en",
            "DATABASE_URL": self.db_url, "REDIS_URL": self.redis_url,
            "LEADER_LOCK_SECONDS": str(LEASE_SECONDS),
            "SYNC_INTERVAL_SECONDS": "5", "WEBAPP_PORT": str(web_port), "LOG_LEVEL": "INFO",
            **self.extra_env, **overrides,
        }

    async def start_replica(self, **overrides: str) -> Replica:
        name = f"replica-{len(self.replicas) + 1}"
        port = int(overrides.pop("WEBAPP_PORT", 0)) or free_port()
        log_path = self.workdir / f"{name}.log"
        with log_path.open("wb") as out:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", cwd=self.workdir, env=self.env(port, **overrides),
                stdout=out, stderr=asyncio.subprocess.STDOUT)
        replica = Replica(name, process, port, log_path)
        self.replicas.append(replica)
        await wait_until(lambda: replica.health(), timeout=60, what=f"{name} to serve /healthz",
                         on_timeout=replica.log)
        return replica

    async def leader(self, *, among: list[Replica] | None = None, timeout: float = 15) -> Replica:
        candidates = among or self.replicas

        async def found() -> Replica | None:
            leaders = [r for r in candidates if r.process.returncode is None and await r.is_leader()]
            return leaders[0] if len(leaders) == 1 else None

        return await wait_until(found, timeout=timeout, what="exactly one leader")

    async def query(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.db_url.replace("postgres://", "postgresql://", 1))
        try:
            return list(await conn.fetch(sql, *args))
        finally:
            await conn.close()

    def hand_client(self) -> CryptoComExchange:
        """Someone trading by hand on the same account (the exchange's app, another tool)."""
        return CryptoComExchange(self.sim.api_key, self.sim.api_secret, api_url=self.sim.rest_url, ws_url="",
                                 live_trading=True, options=TEST_OPTIONS)

    def accepted_client_oids(self) -> list[str]:
        """Every order the exchange holds (open or final), by client_oid: a repeat is an order placed twice."""
        engine = self.sim.engine
        orders = engine.open_orders() + engine.history(start_ns=0, end_ns=2**63 - 1, limit=10**9)
        return [o.client_oid for o in orders if getattr(o, "client_oid", None)]

    def writes(self, method: str) -> list[dict[str, Any]]:
        return [c.params for c in self.sim.calls_to(method)]


async def wait_until(probe: Callable[[], Any], *, timeout: float, what: str, interval: float = 0.05,
                     on_timeout: Callable[[], str] | None = None) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            detail = on_timeout() if on_timeout is not None else ""
            raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{detail[-4000:]}")
        await asyncio.sleep(interval)


@contextlib.asynccontextmanager
async def cluster(tmp_path: Path, *, balances: dict[str, Decimal] | None = None,
                  configure: Callable[[SimulatorConfig], None] | None = None) -> AsyncIterator[Cluster]:
    """An empty database and Redis db, the simulator and the emulator; replicas are started by the test."""
    db_url, redis_url = services_or_skip()
    await _reset_postgres_schema(db_url)
    _migrated.discard(db_url)          # the next `db` fixture migrates again, whatever happens here
    from redis.asyncio import Redis

    redis = Redis.from_url(redis_url)
    await redis.flushdb()
    await redis.aclose()
    config = SimulatorConfig(balances=balances or {"USDT": Decimal(100000)}, rate_limits=False)
    if configure is not None:
        configure(config)
    emulator = BotApiEmulator(poll_conflicts=True)
    runner = web.AppRunner(emulator.make_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    telegram_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        async with running_simulator(config) as sim:
            sim.set_price("BTC_USDT", Decimal(100000))
            group = Cluster(db_url, redis_url, sim, emulator, telegram_url, tmp_path)
            try:
                yield group
            finally:
                codes = [await replica.stop() for replica in group.replicas]
                for replica, code in zip(group.replicas, codes, strict=True):
                    log = replica.log()
                    assert TOKEN not in log and "REPLICA-TEST-TOKEN" not in log, f"{replica.name} logged the token"
                    assert sim.api_secret not in log
                    assert code in (0, -signal.SIGKILL), f"{replica.name} exited {code}\n{log[-4000:]}"
    finally:
        await runner.cleanup()
