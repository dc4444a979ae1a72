"""`python -m bot simulator order|price ...`: an order placed by hand on a running simulator, and the
market moved, from the command line, so the protection flow can be tried without a ccxt script.

    python -m bot simulator order BUY BTC_USDT 0.01 --price 95000     # a LIMIT buy, as by hand
    python -m bot simulator price BTC_USDT 95000                        # the market there: it fills

The order goes through the project's own crypto.com adapter, signed with the simulator's keys
(--key/--secret, else SIMULATOR_API_KEY/SIMULATOR_API_SECRET), exactly as an order typed on the
exchange's site reaches a bot watching the account. Before anything is sent, --url must answer the
simulator's control API: this command never places an order anywhere else.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from bot.cli.parsing import positive_decimal
from bot.domain.orders import OrderType, Side, make_client_oid
from bot.services.watchlist import normalise_symbol
from bot.settings import Settings, SettingsError

DEFAULT_URL = "http://127.0.0.1:8765"
API_PREFIX = "/exchange/v1"


def add_arguments(sim: argparse.ArgumentParser) -> None:
    actions = sim.add_subparsers(dest="sim_action", metavar="{order,price}")
    order = actions.add_parser("order", help="place an order by hand on a running simulator")
    order.add_argument("side", help="BUY or SELL")
    order.add_argument("symbol", help="e.g. BTC_USDT")
    order.add_argument("quantity", help="in the base currency, e.g. 0.01")
    order.add_argument("--price", default=None, help="limit price (without it: a MARKET order)")
    order.add_argument("--url", default=DEFAULT_URL, help=f"the simulator (default {DEFAULT_URL})")
    order.add_argument("--key", default=None, help="API key (default SIMULATOR_API_KEY)")
    order.add_argument("--secret", default=None, help="API secret (default SIMULATOR_API_SECRET)")
    price = actions.add_parser("price", help="set a symbol's last price on a running simulator")
    price.add_argument("symbol")
    price.add_argument("price")
    price.add_argument("--url", default=DEFAULT_URL, help=f"the simulator (default {DEFAULT_URL})")


async def run(settings: Settings, args: argparse.Namespace) -> int:
    if args.sim_action == "order":
        return await place_order(settings, args)
    return await set_price(args)


async def place_order(settings: Settings, args: argparse.Namespace) -> int:
    side = _side(args.side)
    symbol = normalise_symbol(args.symbol)
    quantity = positive_decimal(args.quantity, "quantity", example="0.01", error=SettingsError)
    price = (positive_decimal(args.price, "--price", example="95000", error=SettingsError)
             if args.price is not None else None)
    key = args.key or settings.SIMULATOR_API_KEY
    secret = args.secret or (settings.SIMULATOR_API_SECRET.get_secret_value() if settings.SIMULATOR_API_SECRET
                             else None)
    if not key or not secret:
        raise SettingsError("--key/--secret: no simulator keys; pass the ones `python -m bot simulator` printed, "
                            "or set SIMULATOR_API_KEY and SIMULATOR_API_SECRET for both")
    base_url = args.url.rstrip("/")
    await _control(base_url, "GET", "/_sim/state")       # the simulator, and nothing else, gets the order
    from bot.exchange.base import OrderRequest
    from bot.exchange.cryptocom import CryptoComExchange
    from bot.exchange.errors import ExchangeError

    exchange = CryptoComExchange(key, secret, api_url=base_url + API_PREFIX, ws_url="", live_trading=True)
    order_type = OrderType.LIMIT if price is not None else OrderType.MARKET
    client_oid = make_client_oid("hand", side.value, symbol, str(quantity), str(price), str(time.time_ns()))
    try:
        order = await exchange.create_order(OrderRequest(symbol, side, order_type, client_oid, quantity=quantity,
                                                         price=price))
    except ExchangeError as exc:
        print(f"simulator order: refused: {exc}", file=sys.stderr)
        return 1
    finally:
        await exchange.close()
    at = f" at {order.price}" if order.price is not None else ""
    print(f"placed: {order.side.value} {order.quantity} {order.symbol} {order.order_type.value}{at}; "
          f"order {order.order_id}, client_oid {order.client_oid}, status {order.status.value}")
    if price is not None:
        print(f"to fill it, move the market there: python -m bot simulator price {symbol} {price} --url {base_url}")
    return 0


async def set_price(args: argparse.Namespace) -> int:
    symbol = normalise_symbol(args.symbol)
    price = positive_decimal(args.price, "price", example="95000", error=SettingsError)
    base_url = args.url.rstrip("/")
    answer = await _control(base_url, "POST", "/_sim/price", {"symbol": symbol, "price": str(price)})
    print(f"{symbol} now at {answer.get('price', price)}; orders changed: {answer.get('changed_orders', 0)}")
    return 0


async def _control(base_url: str, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """A call to the simulator's control API; a URL that is not the simulator is one line naming --url."""
    import aiohttp

    timeout = aiohttp.ClientTimeout(total=10)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session, \
                session.request(method, base_url + path, json=body) as response:
            answer = await response.json(content_type=None)
    except (aiohttp.ClientConnectorError, aiohttp.InvalidURL, TimeoutError) as exc:
        raise SettingsError(f"--url: nothing answers at {base_url} ({type(exc).__name__}); start it with "
                            f"`python -m bot simulator`") from None
    except (aiohttp.ClientError, ValueError):
        raise SettingsError(f"--url: {base_url} is not the simulator (no control API at {path})") from None
    if not isinstance(answer, dict):
        raise SettingsError(f"--url: {base_url} is not the simulator (no control API at {path})")
    if "error" in answer:
        raise SettingsError(f"simulator: {answer['error']}")
    if path == "/_sim/state" and "balances" not in answer:
        raise SettingsError(f"--url: {base_url} is not the simulator (no control API at {path})")
    return answer


def _side(text: str) -> Side:
    try:
        return Side(text.strip().upper())
    except ValueError:
        raise SettingsError(f"side {text!r}: expected BUY or SELL") from None


