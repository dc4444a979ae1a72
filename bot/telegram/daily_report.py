"""Sending the daily report: each due user's report, rendered in their language and zone, delivered
through the notifier (their level for daily reports, the outbox, Telegram's pacing)."""

from __future__ import annotations

import logging

from aiogram.utils.i18n import I18n

from bot.services.daily_report import DailyReportService
from bot.telegram.notifier import Notifier
from bot.telegram.views.daily_report import render_daily_report
from bot.telegram.wording import Reader

log = logging.getLogger(__name__)


class DailyReportSender:
    def __init__(self, service: DailyReportService, notifier: Notifier, i18n: I18n, default_language: str) -> None:
        self.service = service
        self.notifier = notifier
        self.i18n = i18n
        self.default_language = default_language

    async def run(self) -> int:
        """Send every report due now and not sent yet; returns how many were handed to the notifier."""
        sent = 0
        for due in await self.service.due():
            if not await self.service.claim(due):
                continue
            try:
                report = await self.service.build(due)
                reader = Reader(self.i18n, due.language or self.default_language, due.timezone)
                await self.notifier.deliver(due.telegram_id, render_daily_report(report, reader))
            except Exception:
                # Not sent: the day is free again, so the next tick (within its 6 hours) tries again.
                log.exception("daily report for %s on %s could not be sent", due.telegram_id, due.day)
                await self.service.release(due)
                continue
            sent += 1
            log.info("daily report for %s on %s handed to the notifier", due.telegram_id, due.day)
        return sent
