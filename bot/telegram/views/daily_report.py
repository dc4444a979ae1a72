"""The daily report as a notification: the portfolio's total and change, unprotected positions with a
Protect button each, OCO problems, and the bot's health (last sync, exchange, stale coins, mode)."""

from __future__ import annotations

from babel.dates import format_date

from bot.domain.notifications import Kind
from bot.services.daily_report import DailyReport
from bot.telegram.callbacks import ProtectCallback
from bot.telegram.notices.model import Button, Notice
from bot.telegram.views import labels
from bot.telegram.views.actions import callback_or_none
from bot.telegram.views.menu import MenuAction
from bot.telegram.views.orders import position_block
from bot.telegram.views.portfolio import total_lines
from bot.telegram.wording import Reader, esc, mode_tag

MAX_PROTECT_BUTTONS = 8


def render_daily_report(report: DailyReport, reader: Reader) -> Notice:
    day = esc(_day(report, reader))
    lines = [f"☀️ <b>{esc(reader.gettext('Daily report'))}</b> · {day} · {mode_tag(report.health.mode, reader)}", ""]
    if report.portfolio.taken_at is not None:
        lines += total_lines(report.portfolio, reader)
    else:
        lines.append(esc(reader.gettext("Not valued yet: the first sync with the exchange has not finished.")))

    positions = report.orders.unprotected
    lines += ["", f"<b>⚠️ {esc(reader.gettext('Unprotected positions'))}</b>" if positions else
              "🛡 " + esc(reader.gettext("Everything held is protected."))]
    lines += [position_block(number, p, reader) for number, p in enumerate(positions, start=1)]

    # A group's problem names its coin here (in /orders it sits under the group); the others name it already.
    problems = [f"{esc(g.symbol)}: {labels.issue(issue, reader)}" for g in report.orders.groups for issue in g.issues]
    problems += [labels.issue(issue, reader) for issue in report.orders.other_issues]
    if problems:
        lines += ["", f"<b>{esc(reader.gettext('OCO problems'))}</b>"]
    else:
        lines += ["", "✅ " + esc(reader.gettext("No OCO problems."))]
    lines += problems

    health = report.health
    last_sync = reader.when(health.last_sync) if health.last_sync is not None else esc(reader.gettext("never"))
    # Worded before the line that holds it: the catalog extractor skips a call nested in another's arguments.
    stale = ", ".join(health.stale_coins) if health.stale_coins else reader.gettext("none")
    lines += ["", f"<b>{esc(reader.gettext('Health'))}</b>",
              esc(reader.gettext("Last sync: {time}")).format(time=last_sync),
              ("✅ " + esc(reader.gettext("Exchange: answering"))) if health.exchange_reachable else
              ("❌ " + esc(reader.gettext("Exchange: not answering"))),
              reader.text("Stale coins: {coins}", coins=esc(stale)),
              esc(reader.gettext("Mode: {mode}")).format(mode=mode_tag(health.mode, reader))]

    protect = []
    for number, position in enumerate(positions[:MAX_PROTECT_BUTTONS], start=1):
        data = callback_or_none(ProtectCallback(symbol=position.asset))
        if data is not None:
            label = reader.gettext("Protect {asset}").format(asset=position.asset)
            protect.append(Button(f"🛡 {number} · {label}", data))
    rows = [tuple(protect[i:i + 2]) for i in range(0, len(protect), 2)]
    # A new /orders message: the report stays as it is.
    rows.append((Button("📋 " + reader.gettext("Orders"), MenuAction(action="orders").pack()),))
    return Notice(Kind.DAILY_REPORT, "\n".join(lines), tuple(rows))


def _day(report: DailyReport, reader: Reader) -> str:
    return format_date(report.due.day, format="full", locale=reader.locale)
