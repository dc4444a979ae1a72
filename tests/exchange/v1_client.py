"""A bare crypto.com v1 client for the simulator's protocol tests: signs exactly as the docs say,
and lets a test break any part of the envelope on purpose."""

from __future__ import annotations

import time
from typing import Any

import aiohttp

from bot.exchange.v1_signing import signature


class V1Client:
    def __init__(self, rest_url: str, api_key: str, api_secret: str) -> None:
        self.rest_url = rest_url
        self.api_key = api_key
        self.api_secret = api_secret
        self.session = aiohttp.ClientSession()

    async def close(self) -> None:
        await self.session.close()

    async def public(self, method: str, **params: Any) -> tuple[int, dict[str, Any]]:
        async with self.session.get(f"{self.rest_url}/{method}", params=params) as response:
            return response.status, await response.json()

    async def private(self, method: str, params: dict[str, Any] | None = None, *, nonce: int | None = None,
                      secret: str | None = None, drop_params: bool = False) -> tuple[int, dict[str, Any]]:
        nonce = nonce if nonce is not None else time.time_ns() // 1_000_000
        body: dict[str, Any] = {"id": nonce, "method": method, "api_key": self.api_key, "nonce": nonce,
                                "params": params or {}}
        body["sig"] = signature(secret or self.api_secret, method, nonce, self.api_key, params or {}, nonce)
        if drop_params:
            del body["params"]
        async with self.session.post(f"{self.rest_url}/{method}", json=body) as response:
            if response.content_type != "application/json":
                return response.status, {"code": None, "text": await response.text()}
            return response.status, await response.json()

    async def ok(self, method: str, params: dict[str, Any] | None = None) -> Any:
        status, body = await self.private(method, params)
        assert (status, body["code"]) == (200, 0), body
        return body.get("result")
