"""GET /healthz: unauthenticated reachability report. Never a secret, never account data."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.services.deadline import within

Probe = Callable[[], Awaitable[None]]


@dataclass
class HealthReport:
    mode: str
    probes: dict[str, Probe] = field(default_factory=dict)
    jobs: Callable[[], dict[str, Any]] = lambda: {}
    # More sections of the report (leadership, the exchange's circuit), each never a secret.
    details: dict[str, Callable[[], Any]] = field(default_factory=dict)
    timeout_s: float = 3.0
    started_at: float = field(default_factory=time.monotonic)

    async def collect(self) -> dict[str, Any]:
        names = list(self.probes)
        results = await asyncio.gather(*(self._probe(self.probes[n]) for n in names))
        checks = dict(zip(names, results, strict=True))
        down = [name for name, check in checks.items() if not check["ok"]]
        return {
            "status": "degraded" if down else "ok",
            "down": down,                  # what is unreachable now, by name: database, redis, exchange, ...
            "mode": self.mode,
            "uptime_s": round(time.monotonic() - self.started_at, 1),
            "checks": checks,
            "jobs": self.jobs(),
            **{name: section() for name, section in self.details.items()},
        }

    async def _probe(self, probe: Probe) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            # `within`, not wait_for: a query cancelled while the database is unreachable takes as long
            # to cancel as the database takes to come back, and /healthz must answer meanwhile.
            await within(probe, self.timeout_s)
            return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 1)}
        except TimeoutError:
            return {"ok": False, "error": "timeout"}
        except Exception as exc:
            # The exception type only: messages may echo URLs or request bodies.
            return {"ok": False, "error": type(exc).__name__}


HEALTH_KEY = web.AppKey("health", HealthReport)


async def healthz(request: web.Request) -> web.Response:
    report = await request.app[HEALTH_KEY].collect()
    return web.json_response(report, status=200 if report["status"] == "ok" else 503)


def add_health_routes(app: web.Application, report: HealthReport) -> None:
    app[HEALTH_KEY] = report
    app.router.add_get("/healthz", healthz)
