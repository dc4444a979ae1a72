"""The live crypto.com Exchange adapter (ccxt async for signing and transport, `private/advanced/*`
for trigger orders and OCO, the v1 user WebSocket for order updates)."""

from bot.exchange.cryptocom.errors import LiveTradingDisabled
from bot.exchange.cryptocom.exchange import CryptoComExchange, CryptoComOptions

__all__ = ["CryptoComExchange", "CryptoComOptions", "LiveTradingDisabled"]
