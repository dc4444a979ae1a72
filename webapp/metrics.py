"""GET /metrics: the Prometheus text exposition. Counts and states only: never a secret, an id or an
amount (the metric labels are method, job and code names)."""

from __future__ import annotations

from typing import Protocol

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST


class Exposition(Protocol):
    def __call__(self) -> bytes: ...


EXPOSITION_KEY = web.AppKey("metrics", Exposition)


async def metrics(request: web.Request) -> web.Response:
    response = web.Response(body=request.app[EXPOSITION_KEY]())
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response


def add_metrics_route(app: web.Application, exposition: Exposition) -> None:
    app[EXPOSITION_KEY] = exposition
    app.router.add_get("/metrics", metrics)
