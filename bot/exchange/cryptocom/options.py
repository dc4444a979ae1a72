"""Timings and limits of the live crypto.com adapter (its transport, reads and order stream)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bot.exchange.cryptocom.client import TransportOptions
from bot.exchange.cryptocom.stream import StreamOptions


@dataclass(frozen=True)
class CryptoComOptions:
    """Timings and limits; the defaults are the exchange's, tests shorten the waits."""
    timeout_seconds: float = 10.0
    rate_limit_retries: int = 5
    rate_limit_backoff_seconds: float = 0.25
    read_retries: int = 2                  # reads retried after a 5xx or a dropped connection
    history_interval_seconds: float = 1.0
    ws_connect_delay_seconds: float = 1.0
    poll_interval_seconds: float = 5.0
    reconnect_base_seconds: float = 1.0
    reconnect_max_seconds: float = 60.0
    lookup_attempts: int = 3               # detail lookups after an ambiguous write
    lookup_delay_seconds: float = 0.3      # between them: the exchange processes writes asynchronously
    instruments_ttl_seconds: float = 3600.0
    missing_method_retry_seconds: float = 3600.0   # a method answered METHOD_NOT_FOUND is asked again after
    min_notional: Decimal = Decimal(1)     # USD; get-instruments has no minimum (risk parameters do)

    def transport(self) -> TransportOptions:
        return TransportOptions(timeout_seconds=self.timeout_seconds, rate_limit_retries=self.rate_limit_retries,
                                rate_limit_backoff_seconds=self.rate_limit_backoff_seconds,
                                history_interval_seconds=self.history_interval_seconds,
                                read_retries=self.read_retries)

    def stream(self) -> StreamOptions:
        return StreamOptions(connect_delay_seconds=self.ws_connect_delay_seconds,
                             poll_interval_seconds=self.poll_interval_seconds,
                             reconnect_base_seconds=self.reconnect_base_seconds,
                             reconnect_max_seconds=self.reconnect_max_seconds)
