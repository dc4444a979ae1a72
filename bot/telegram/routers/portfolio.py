"""/portfolio: balances with their value, the total and its change, what is unprotected."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n

from bot.services.portfolio_overview import PortfolioOverviewService
from bot.services.user_settings import UserSettingsService
from bot.telegram.routers.common import reader_for
from bot.telegram.screens import Screen, show
from bot.telegram.views.portfolio import PortfolioPage, render_portfolio
from bot.telegram.wording import Reader


async def portfolio_message(portfolio_overview: PortfolioOverviewService, reader: Reader, *,
                            page: int = 0) -> tuple[str, InlineKeyboardMarkup]:
    return render_portfolio(await portfolio_overview.overview(datetime.now(UTC)), reader, page=page)


def build_router() -> Router:
    router = Router(name="portfolio")

    @router.message(Command("portfolio"))
    async def portfolio_command(message: Message, portfolio_overview: PortfolioOverviewService,
                                user_settings: UserSettingsService, i18n: I18n) -> None:
        reader = await reader_for(message.from_user, i18n, user_settings)
        text, keyboard = await portfolio_message(portfolio_overview, reader)
        await message.answer(text, reply_markup=keyboard)

    @router.callback_query(PortfolioPage.filter())
    async def portfolio_page(query: CallbackQuery, callback_data: PortfolioPage,
                             portfolio_overview: PortfolioOverviewService, user_settings: UserSettingsService,
                             i18n: I18n) -> None:
        reader = await reader_for(query.from_user, i18n, user_settings)
        text, keyboard = await portfolio_message(portfolio_overview, reader, page=callback_data.page)
        await query.answer()
        await show(query, Screen(text, keyboard))

    return router
