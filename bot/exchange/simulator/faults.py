"""Fault injection for the simulator, settable from tests (in process) or over its control API.

Each fault applies to one method (or to every method when `method` is None) for a number of
requests (`times=None`: until cleared). Kinds, in the order they act on a request:
  latency   sleep before answering (a client with a shorter timeout sees an ambiguous failure,
            while the request is still processed afterwards, as on the real exchange)
  http      answer an HTTP error (5xx by default) without processing: nothing happened
  code      answer a v1 error code (e.g. 42901, 140001) without processing
  drop      process the request, then drop the connection before the answer: it happened, but
            the client cannot know (the case `client_oid` look-ups exist for)
  garble    process the request, then answer something that is not the exchange's: `style`
            "truncated" (the JSON cut in half), "html" (a proxy's error page, HTTP 502 by default)
            or "reset" (the connection reset in the middle of the body)
"""

from __future__ import annotations

import random
from dataclasses import dataclass

GARBLE_STYLES = ("truncated", "html", "reset")


@dataclass
class Fault:
    kind: str                    # "latency" | "http" | "code" | "drop" | "garble"
    method: str | None
    times: int | None
    seconds: float = 0.0
    status: int = 503
    code: str = ""
    message: str = ""
    style: str = ""              # garble: one of GARBLE_STYLES

    def matches(self, method: str) -> bool:
        return (self.method is None or self.method == method) and (self.times is None or self.times > 0)


@dataclass(frozen=True)
class ActiveFaults:
    """What applies to one request."""
    latency: float = 0.0
    http_status: int | None = None
    code: str | None = None
    message: str = ""
    drop: bool = False
    garble: str | None = None         # processed, then a broken answer of this style
    garble_status: int = 200


@dataclass
class Chaos:
    """Random faults on a share of the requests: a seeded run replays the same storm."""
    rate: float
    methods: frozenset[str] | None
    rng: random.Random
    kinds: tuple[str, ...] = ("http", "drop", "rate_limit", "latency")
    latency_seconds: float = 0.05


class FaultInjector:
    def __init__(self) -> None:
        self.faults: list[Fault] = []
        self.chaos_plan: Chaos | None = None
        self.chaos_hits: dict[str, int] = {}
        # Per method, what the storm did to it (kind -> count): a test can tell that the faults
        # reached the requests it cares about (creates, say), not only the many reads.
        self.chaos_hits_by_method: dict[str, dict[str, int]] = {}

    def chaos(self, rate: float, *, seed: int = 0, methods: set[str] | None = None,
              kinds: tuple[str, ...] = ("http", "drop", "rate_limit", "latency")) -> None:
        """From now on a `rate` share of the requests (to `methods`, or all) meet a random fault."""
        self.chaos_plan = Chaos(rate, frozenset(methods) if methods else None, random.Random(seed), kinds)

    def latency(self, method: str | None, seconds: float, times: int | None = None) -> None:
        self.faults.append(Fault("latency", method, times, seconds=seconds))

    def fail_http(self, method: str | None, status: int = 503, times: int | None = 1) -> None:
        self.faults.append(Fault("http", method, times, status=status))

    def force_code(self, method: str | None, code: str | int, times: int | None = 1, message: str = "") -> None:
        self.faults.append(Fault("code", method, times, code=str(code), message=message))

    def drop(self, method: str | None, times: int | None = 1) -> None:
        self.faults.append(Fault("drop", method, times))

    def garble(self, method: str | None, style: str = "truncated", times: int | None = 1,
               status: int | None = None) -> None:
        if style not in GARBLE_STYLES:
            raise ValueError(f"garble style is one of {', '.join(GARBLE_STYLES)}, not {style!r}")
        default = 502 if style == "html" else 200
        self.faults.append(Fault("garble", method, times, style=style, status=status or default))

    def clear(self) -> None:
        self.faults.clear()
        self.chaos_plan = None

    def take(self, method: str) -> ActiveFaults:
        """The faults for this request; each one used counts against its `times`."""
        latency, status, code, message, drop = 0.0, None, None, "", False
        garble: Fault | None = None
        for fault in self.faults:
            if not fault.matches(method):
                continue
            used = True
            if fault.kind == "latency":
                latency += fault.seconds
            elif fault.kind == "http" and status is None and code is None:
                status = fault.status
            elif fault.kind == "code" and status is None and code is None:
                code, message = fault.code, fault.message
            elif fault.kind == "drop" and not drop:
                drop = True
            elif fault.kind == "garble" and garble is None:
                garble = fault
            else:
                used = False
            if used and fault.times is not None:
                fault.times -= 1
        self.faults = [f for f in self.faults if f.times is None or f.times > 0]
        chaos = self.chaos_plan
        if (chaos is not None and (chaos.methods is None or method in chaos.methods)
                and status is None and code is None and not drop and chaos.rng.random() < chaos.rate):
            kind = chaos.rng.choice(chaos.kinds)
            self.chaos_hits[kind] = self.chaos_hits.get(kind, 0) + 1
            per_method = self.chaos_hits_by_method.setdefault(method, {})
            per_method[kind] = per_method.get(kind, 0) + 1
            if kind == "http":
                status = 503
            elif kind == "drop":
                drop = True
            elif kind == "rate_limit":
                code, message = "42901", "injected"
            else:
                latency += chaos.latency_seconds
        return ActiveFaults(latency, status, code, message, drop,
                            garble.style if garble is not None else None,
                            garble.status if garble is not None else 200)

    def describe(self) -> list[dict[str, object]]:
        return [{"kind": f.kind, "method": f.method, "times": f.times, "seconds": f.seconds, "status": f.status,
                 "code": f.code, "style": f.style} for f in self.faults]
