"""GET /healthz answers without auth, reports each outside system and never a secret."""

from __future__ import annotations

from webapp.app import build_web_app
from webapp.health import HealthReport


async def test_healthz_reports_checks_jobs_and_mode(aiohttp_client) -> None:
    async def ok() -> None:
        return None

    async def failing() -> None:
        raise ConnectionError("https://user:hunter2@db.example/bot refused")

    report = HealthReport(mode="paper", probes={"database": ok, "exchange": failing},
                          jobs=lambda: {"sync": {"runs": 3}})
    client = await aiohttp_client(build_web_app(report))
    response = await client.get("/healthz")
    body = await response.json()
    assert response.status == 503
    assert body["status"] == "degraded" and body["mode"] == "paper"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["exchange"] == {"ok": False, "error": "ConnectionError"}
    assert body["jobs"] == {"sync": {"runs": 3}}
    assert "hunter2" not in await response.text()


async def test_healthz_is_ok_when_everything_answers(aiohttp_client) -> None:
    async def ok() -> None:
        return None

    client = await aiohttp_client(build_web_app(HealthReport(mode="live", probes={"database": ok})))
    response = await client.get("/healthz")
    assert response.status == 200
    assert (await response.json())["mode"] == "live"
