"""/orders: open orders by OCO group, orders outside groups, unprotected positions; pages and refresh
edit the message in place. The buttons on it (cancel, protect) are handled by the actions router."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n

from bot.services.orders_overview import OrdersOverviewService
from bot.services.user_settings import UserSettingsService
from bot.telegram.routers.common import reader_for
from bot.telegram.screens import Screen, show
from bot.telegram.views.orders import OrdersPage, render_orders
from bot.telegram.wording import Reader


async def orders_message(orders_overview: OrdersOverviewService, reader: Reader, *, page: int = 0,
                         refresh: bool = False) -> tuple[str, InlineKeyboardMarkup]:
    view = await orders_overview.overview(refresh_prices=refresh)
    return render_orders(view, reader, page=page, as_of=datetime.now(UTC))


def build_router() -> Router:
    router = Router(name="orders")

    @router.message(Command("orders"))
    async def orders_command(message: Message, orders_overview: OrdersOverviewService,
                             user_settings: UserSettingsService, i18n: I18n) -> None:
        reader = await reader_for(message.from_user, i18n, user_settings)
        text, keyboard = await orders_message(orders_overview, reader)
        await message.answer(text, reply_markup=keyboard)

    @router.callback_query(OrdersPage.filter())
    async def orders_page(query: CallbackQuery, callback_data: OrdersPage, orders_overview: OrdersOverviewService,
                          user_settings: UserSettingsService, i18n: I18n) -> None:
        reader = await reader_for(query.from_user, i18n, user_settings)
        text, keyboard = await orders_message(orders_overview, reader, page=callback_data.page,
                                              refresh=callback_data.action == "refresh")
        await query.answer()
        await show(query, Screen(text, keyboard))

    return router
