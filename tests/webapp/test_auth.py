"""Every operation of the OpenAPI document answers 401 with no data unless the initData is valid,
fresh and an allowed user's; the document lists exactly the /api/ routes the application serves."""

from __future__ import annotations

import re

import pytest

from tests.webapp.harness import ALLOWED, STRANGER, auth, build_app
from webapp.auth import MAX_AGE_S, InitDataVerifier
from webapp.openapi import document

SAMPLE = {"symbol": "BTC_USDT", "action_id": "a1"}


def operations() -> list[tuple[str, str]]:
    return [(method.upper(), path) for path, item in document()["paths"].items() for method in item]


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLE[m.group(1)], path)


BAD_HEADERS = {
    "none": {},
    "not tma": {"Authorization": "Bearer abc"},
    "forged": auth(ALLOWED, token="123456:SOMEONE-ELSES-TOKEN"),
    "expired": auth(ALLOWED, age_s=MAX_AGE_S + 60),
    "foreign user": auth(STRANGER),
    "tampered": {"Authorization": auth(ALLOWED)["Authorization"].replace("4242", "4243")},
    "garbage": {"Authorization": "tma %%%&&&==="},
}


@pytest.mark.parametrize("kind", list(BAD_HEADERS))
async def test_every_documented_route_refuses_bad_init_data_with_401_and_no_data(kind, exchange,
                                                                                  aiohttp_client) -> None:
    client = await aiohttp_client(build_app(exchange))
    for method, path in operations():
        response = await client.request(method, concrete(path), headers=BAD_HEADERS[kind],
                                        json={"symbol": "BTC_USDT", "trade_enabled": True})
        assert response.status == 401, (kind, method, path, response.status)
        assert await response.json() == {"error": "unauthorized"}, (kind, method, path)


async def test_the_document_lists_exactly_the_api_routes_served(exchange) -> None:
    app = build_app(exchange)
    served = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter")
        if path and path.startswith("/api/") and route.method != "HEAD" and path != "/api/openapi.json":
            served.add((route.method, path))
    assert served == set(operations())


async def test_the_served_document_is_the_document(exchange, aiohttp_client) -> None:
    client = await aiohttp_client(build_app(exchange))
    response = await client.get("/api/openapi.json")
    assert response.status == 200
    assert await response.json() == document()


async def test_valid_init_data_opens_every_read(exchange, aiohttp_client) -> None:
    client = await aiohttp_client(build_app(exchange))
    for method, path in operations():
        if method != "GET" or path == "/api/events":
            continue
        response = await client.get(concrete(path), headers=auth())
        assert response.status == 200, (path, await response.text())


def test_auth_date_is_checked_as_aiogram_does_not() -> None:
    from bot.sandbox.initdata import sign_init_data

    now = 1_800_000_000.0
    verifier = InitDataVerifier("123456:T", frozenset({1}), clock=lambda: now)
    fresh = sign_init_data("123456:T", 1, auth_date=int(now) - MAX_AGE_S + 5)
    stale = sign_init_data("123456:T", 1, auth_date=int(now) - MAX_AGE_S - 5)
    future = sign_init_data("123456:T", 1, auth_date=int(now) + 3600)
    assert verifier.verify(f"tma {fresh}") is not None
    assert verifier.verify(f"tma {stale}") is None
    assert verifier.verify(f"tma {future}") is None
