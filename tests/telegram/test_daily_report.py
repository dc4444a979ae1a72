"""The daily report: at each user's report time in their zone, in their language, once per local day
(also across a restart), caught up at start within 6 hours; end to end through the Bot API emulator."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from bot.db.repositories import DailyReportRepository, UserRepository
from bot.sandbox import BotApiEmulator
from tests.clocks import SetClock
from tests.telegram.harness import (
    OWNER,
    PARTNER,
    World,
    account_with_everything,
    assert_valid_html,
    buttons,
    plain,
    running_app,
)

pytestmark = pytest.mark.storage
MONDAY = datetime(2026, 12, 7, tzinfo=UTC)       # winter: Madrid is UTC+1, New York UTC-5


async def two_zones() -> None:
    users = UserRepository()
    await users.update(OWNER, timezone="Europe/Madrid", daily_alert_time="08:00")
    await users.update(PARTNER, timezone="America/New_York", daily_alert_time="08:00", language="es")


def reports_to(world: World, user: int) -> list[str]:
    return [m["text"] for m in world.chat(user).messages() if "☀️" in m.get("text", "")]


async def wait_reports(world: World, user: int, count: int, timeout: float = 10) -> list[str]:
    await world.emulator.wait_for_call(
        "sendMessage", count=count, timeout=timeout,
        where=lambda c: c.params.get("chat_id") == str(user) and "☀️" in str(c.params.get("text", "")))
    return reports_to(world, user)


async def test_each_user_gets_the_report_at_their_own_time_in_their_language(db: str, aiohttp_server,
                                                                             monkeypatch) -> None:
    clock = SetClock(MONDAY.replace(hour=6))
    async with running_app(db, aiohttp_server, monkeypatch, clock=clock) as world:
        await account_with_everything(world)
        await two_zones()
        assert await world.app.telegram.daily_report.run() == 0          # 07:00 in Madrid: not yet

        clock.now = MONDAY.replace(hour=7, minute=5)                      # 08:05 Madrid, 02:05 New York
        assert await world.app.telegram.daily_report.run() == 1
        [owner] = await wait_reports(world, OWNER, 1)
        assert_valid_html(owner)
        text = plain(owner)
        for part in ("Daily report", "Monday, December 7, 2026", "Unprotected positions", "BTC", "at risk",
                     "Total:", "Health", "Last sync:", "Exchange: answering", "Stale coins: none", "LIVE"):
            assert part in text, part
        report = world.chat(OWNER).messages()[-1]
        assert any("Protect BTC" in t for t, _ in buttons(report)) and any("Orders" in t for t, _ in buttons(report))
        assert reports_to(world, PARTNER) == []
        assert await world.app.telegram.daily_report.run() == 0          # a minute later: already sent

        clock.now = MONDAY.replace(hour=13, minute=5)                     # 08:05 New York
        assert await world.app.telegram.daily_report.run() == 1
        [partner] = await wait_reports(world, PARTNER, 1)
        assert "Informe diario" in plain(partner) and "lunes, 7 de diciembre de 2026" in plain(partner)
        assert "Posiciones sin protección" in plain(partner)
        assert len(reports_to(world, OWNER)) == 1


async def test_the_reports_protect_button_opens_the_preview(db: str, aiohttp_server, monkeypatch) -> None:
    clock = SetClock(MONDAY.replace(hour=7, minute=1))
    async with running_app(db, aiohttp_server, monkeypatch, clock=clock) as world:
        await account_with_everything(world)
        await two_zones()
        await world.app.telegram.daily_report.run()
        await wait_reports(world, OWNER, 1)
        chat = world.chat(OWNER)
        report = chat.messages()[-1]
        preview = await (await chat.press(report, "Protect BTC")).new_message()
        assert "Protect BTC" in plain(preview["text"]) and "Confirm" in str(buttons(preview))


async def run_once_in_a_new_process(db: str, aiohttp_server, monkeypatch, clock: Callable[[], datetime]) -> int:
    emulator = BotApiEmulator()
    async with running_app(db, aiohttp_server, monkeypatch, clock=clock, emulator=emulator) as world:
        await world.sync()
        await two_zones()
        # Sent by this call, or by the start's own catch-up (the zones stored by an earlier process
        # make it due then): either way it reaches the chat within a few seconds, or it is not sent.
        await world.app.telegram.daily_report.run()
        with contextlib.suppress(TimeoutError):
            await wait_reports(world, OWNER, 1, timeout=3)
        return len(reports_to(world, OWNER))


async def test_the_report_is_sent_once_a_day_even_across_a_restart(db: str, aiohttp_server, monkeypatch) -> None:
    clock = SetClock(MONDAY.replace(hour=7, minute=0))
    assert await run_once_in_a_new_process(db, aiohttp_server, monkeypatch, clock) == 1
    clock.now += timedelta(minutes=30)
    assert await run_once_in_a_new_process(db, aiohttp_server, monkeypatch, clock) == 0
    assert await DailyReportRepository().sent_days(OWNER) == [MONDAY.date()]
    clock.now += timedelta(days=1)                                         # Tuesday: a new report
    assert await run_once_in_a_new_process(db, aiohttp_server, monkeypatch, clock) == 1


@pytest.mark.parametrize(("late", "caught_up"), [(timedelta(hours=5, minutes=59), True),
                                                  (timedelta(hours=6, minutes=1), False)])
async def test_a_report_missed_while_down_is_sent_at_start_within_six_hours(db: str, aiohttp_server, monkeypatch,
                                                                           late: timedelta,
                                                                           caught_up: bool) -> None:
    await two_zones_before_start(db)
    clock = SetClock(MONDAY.replace(hour=7) + late)                        # Madrid's 08:00 passed `late` ago
    async with running_app(db, aiohttp_server, monkeypatch, clock=clock) as world:
        if caught_up:
            [report] = await wait_reports(world, OWNER, 1)
            assert "Daily report" in plain(report)
        else:
            await world.app.telegram.daily_report.run()
            assert reports_to(world, OWNER) == []


async def two_zones_before_start(db: str) -> None:
    """The users' choices are stored before the bot starts (the database outlives the process)."""
    from bot.db.config import close_db, init_db

    await close_db()
    await init_db(db)
    await two_zones()
