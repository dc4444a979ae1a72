"""Prometheus metrics for one running application (its own registry: no process-wide singleton, so a
test builds as many applications as it likes).

What is counted where it happens (jobs by the scheduler's observer, exchange calls by
`MeteredExchange`, reaction latencies from the events); what is a state (leadership, the order
stream, Telegram's send queue, the exchange's circuit) is read at scrape time from its owner.
Labels are method names, job names and exchange codes: never a key, a token, an id or an amount.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.db.repositories import OcoGroupRepository, OrderRepository
from bot.domain.events import Event, OcoLegDone, ProtectionPlaced
from bot.services.events import EventBus

log = logging.getLogger(__name__)

PREFIX = "cryptobot"
# Reactions are milliseconds on the order stream and seconds on polling: buckets cover both.
REACTION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
JOB_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
EXCHANGE_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

Reading = float | dict[tuple[str, ...], float]


class _Readings(Collector):
    """Gauges and counters whose values live elsewhere, read at scrape time."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str, str, tuple[str, ...], Callable[[], Reading]]] = []

    def collect(self) -> Iterator[Metric]:
        for kind, name, documentation, labels, read in self.items:
            family_type = CounterMetricFamily if kind == "counter" else GaugeMetricFamily
            family = family_type(name, documentation, labels=list(labels))
            try:
                value = read()
            except Exception:
                log.debug("metric %s could not be read", name, exc_info=True)
                continue
            if isinstance(value, dict):
                for label_values, number in value.items():
                    family.add_metric(list(label_values), float(number))
            else:
                family.add_metric([], float(value))
            yield family


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._readings = _Readings()
        self.registry.register(self._readings)
        self.job_runs = Counter(f"{PREFIX}_job_runs", "Job ticks by outcome: ok, failed, skipped (still running), "
                                "not_leader (a follower's tick), fenced (finished after leadership ended)",
                                ["job", "outcome"], registry=self.registry)
        self.job_seconds = Histogram(f"{PREFIX}_job_duration_seconds", "How long each job run took", ["job"],
                                     buckets=JOB_BUCKETS, registry=self.registry)
        self.exchange_calls = Counter(f"{PREFIX}_exchange_calls", "Calls to the exchange by method", ["method"],
                                      registry=self.registry)
        self.exchange_errors = Counter(f"{PREFIX}_exchange_errors", "Failed exchange calls by method and code "
                                       "(the exchange's code, else the error's kind)", ["method", "code"],
                                       registry=self.registry)
        self.exchange_seconds = Histogram(f"{PREFIX}_exchange_call_seconds", "Exchange call duration by method",
                                          ["method"], buckets=EXCHANGE_BUCKETS, registry=self.registry)
        self.fill_to_protection = Histogram(
            f"{PREFIX}_fill_to_protection_seconds",
            "From a buy's fill (the exchange's time) to its stop-loss and take-profit placed",
            buckets=REACTION_BUCKETS, registry=self.registry)
        self.leg_to_sibling_cancel = Histogram(
            f"{PREFIX}_leg_to_sibling_cancel_seconds",
            "From a protection leg's fill (the exchange's time) to the other leg cancelled",
            buckets=REACTION_BUCKETS, registry=self.registry)

    # --- what the owners report -------------------------------------------------------------

    def job_finished(self, job: str, outcome: str, seconds: float | None) -> None:
        self.job_runs.labels(job, outcome).inc()
        if seconds is not None:
            self.job_seconds.labels(job).observe(seconds)

    def exchange_call(self, method: str, seconds: float, error: BaseException | None) -> None:
        self.exchange_calls.labels(method).inc()
        self.exchange_seconds.labels(method).observe(seconds)
        if error is not None:
            self.exchange_errors.labels(method, error_code(error)).inc()

    def gauge(self, name: str, documentation: str, read: Callable[[], Reading], labels: Iterable[str] = ()) -> None:
        self._readings.items.append(("gauge", f"{PREFIX}_{name}", documentation, tuple(labels), read))

    def counter(self, name: str, documentation: str, read: Callable[[], Reading],
                labels: Iterable[str] = ()) -> None:
        self._readings.items.append(("counter", f"{PREFIX}_{name}", documentation, tuple(labels), read))

    def watch(self, *, leadership: Any, exchange: Any, send_queue: Any,
              following_order_stream: Callable[[], bool], circuit: Any = None) -> None:
        """The states read at scrape time: leadership, the order stream, Telegram's send queue, the
        exchange's circuit."""
        if circuit is not None:
            self.gauge("exchange_circuit_open", "1 while the exchange's circuit is open (writes stopped)",
                       lambda: as_gauge_value(circuit.state != "closed"))
            self.counter("exchange_circuit_openings", "Times the exchange's circuit opened",
                         lambda: float(circuit.openings))
        self.gauge("leader", "1 while this replica holds leadership", lambda: as_gauge_value(leadership.is_leader))
        self.gauge("leader_token", "This replica's fencing token while it leads (0: none)",
                   lambda: float(leadership.token or 0))
        self.counter("leader_elections", "Times this replica became the leader",
                     lambda: float(leadership.as_dict().get("elections", 0)))
        self.gauge("order_stream_following", "1 while this replica follows the exchange's order stream",
                   lambda: as_gauge_value(following_order_stream()))
        self.gauge("order_stream_connected", "1 while the order stream's WebSocket is connected and authenticated",
                   lambda: as_gauge_value(any(s.connected.is_set() for s in getattr(exchange, "streams", []))))
        self.gauge("telegram_send_queue_depth", "Messages waiting to be sent to Telegram",
                   lambda: float(send_queue.pending()))
        self.counter("telegram_rate_limited", "Telegram 429 answers (retry_after) received",
                     lambda: float(send_queue.stats.retry_after))
        self.counter("telegram_messages_sent", "Messages Telegram accepted", lambda: float(send_queue.stats.sent))
        self.counter("telegram_messages_dropped", "Messages given up after refusals",
                     lambda: float(send_queue.stats.dropped))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    # --- reaction latencies, from the events ------------------------------------------------

    def follow_reactions(self, events: EventBus, orders: OrderRepository) -> None:
        """Measure fill -> protection and leg fill -> sibling cancelled from the exchange's own fill time
        (so the order stream's delay counts too). The events come after the reaction is done."""
        groups = OcoGroupRepository(orders.mode, orders.account)

        async def placed(event: Event) -> None:
            assert isinstance(event, ProtectionPlaced)
            group = await groups.get(event.group_id)
            entry = await orders.get(group.entry_exchange_order_id or "") if group is not None else None
            _observe_since(self.fill_to_protection, entry.exchange_updated_at if entry is not None else None)

        async def leg_done(event: Event) -> None:
            assert isinstance(event, OcoLegDone)
            if not (event.sibling_canceled and event.sibling_placed):
                return
            group = await groups.get(event.group_id)
            if group is None:
                return
            oid = group.take_profit_client_oid if event.leg == "take_profit" else group.stop_loss_client_oid
            leg = await orders.by_client_oid(oid or "")
            _observe_since(self.leg_to_sibling_cancel, leg.exchange_updated_at if leg is not None else None)

        events.subscribe(ProtectionPlaced, placed)
        events.subscribe(OcoLegDone, leg_done)


def _observe_since(histogram: Histogram, started: datetime | None) -> None:
    if started is None:
        return
    if started.tzinfo is None:
        started = started.replace(tzinfo=UTC)
    # Clocks differ a little between the exchange and us: never a negative latency.
    histogram.observe(max(0.0, time.time() - started.timestamp()))


def error_code(error: BaseException) -> str:
    code = getattr(error, "code", None)
    return str(code) if code else type(error).__name__


def as_gauge_value(flag: Any) -> float:
    return 1.0 if flag else 0.0
