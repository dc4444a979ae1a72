"""Buttons that touch the exchange: Protect, Cancel group, Cancel order open a preview (a new message
with Confirm / Cancel); Confirm runs it once through the ActionService and the preview becomes the
result. Whoever presses, the service decides: an expired, repeated or foreign press does nothing."""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable

from aiogram import Router
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n

from bot.domain.actions import ActionPreview, ActionRefused, Outcome
from bot.services.actions import ActionService
from bot.services.user_settings import UserSettingsService
from bot.telegram.callbacks import ProtectCallback
from bot.telegram.routers.common import reader_for
from bot.telegram.screens import Screen, show
from bot.telegram.views.actions import (
    ActionPress,
    CancelGroupPress,
    CancelOrderPress,
    render_preview,
    render_refusal,
    render_result,
)
from bot.telegram.views.menu import MenuAction
from bot.telegram.wording import Reader

log = logging.getLogger(__name__)


async def _offer(query: CallbackQuery, reader: Reader, make: Awaitable[ActionPreview]) -> None:
    try:
        preview = await make
    except ActionRefused as refused:
        await query.answer(render_refusal(refused, reader), show_alert=True)
        return
    text, keyboard = render_preview(preview, reader)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(text, reply_markup=keyboard)
    elif query.bot is not None:
        await query.bot.send_message(query.from_user.id, text, reply_markup=keyboard)


def build_router() -> Router:
    router = Router(name="actions")

    @router.callback_query(ProtectCallback.filter())
    async def protect(query: CallbackQuery, callback_data: ProtectCallback, actions: ActionService,
                      user_settings: UserSettingsService, i18n: I18n) -> None:
        # With a group standing as a stop-loss only (a "protection incomplete" message), the preview
        # completes it; otherwise what of the coin is held but not covered now is protected.
        reader = await reader_for(query.from_user, i18n, user_settings)
        await _offer(query, reader, actions.preview_protect(query.from_user.id, callback_data.symbol,
                                                              callback_data.group or None))

    @router.callback_query(CancelGroupPress.filter())
    async def cancel_group(query: CallbackQuery, callback_data: CancelGroupPress, actions: ActionService,
                           user_settings: UserSettingsService, i18n: I18n) -> None:
        reader = await reader_for(query.from_user, i18n, user_settings)
        await _offer(query, reader, actions.preview_cancel_group(query.from_user.id, callback_data.group_id))

    @router.callback_query(CancelOrderPress.filter())
    async def cancel_order(query: CallbackQuery, callback_data: CancelOrderPress, actions: ActionService,
                           user_settings: UserSettingsService, i18n: I18n) -> None:
        reader = await reader_for(query.from_user, i18n, user_settings)
        await _offer(query, reader, actions.preview_cancel_order(query.from_user.id, callback_data.order_id))

    @router.callback_query(ActionPress.filter())
    async def decide(query: CallbackQuery, callback_data: ActionPress, actions: ActionService,
                     user_settings: UserSettingsService, i18n: I18n) -> None:
        reader = await reader_for(query.from_user, i18n, user_settings)
        try:
            if callback_data.do == "confirm":
                result = await actions.confirm(callback_data.action_id, query.from_user.id)
            else:
                result = await actions.dismiss(callback_data.action_id, query.from_user.id)
        except Exception:
            log.exception("action %s could not be finished", callback_data.action_id)
            await query.answer(reader.gettext("Something went wrong; nothing is assumed: check /orders."),
                               show_alert=True)
            return
        text = render_result(result, reader)
        if result.outcome in (Outcome.FOREIGN, Outcome.NOT_FOUND):
            # Not this user's to see: a short alert, and the message stays as it is.
            await query.answer(html.unescape(text)[:200], show_alert=True)
            return
        keyboard = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(
            text="📋 " + reader.gettext("Orders"), callback_data=MenuAction(action="orders").pack())]]) \
            if result.ok else None
        await query.answer()
        await show(query, Screen(text, keyboard))

    return router
