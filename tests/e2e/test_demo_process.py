"""`make run` with no configuration, as a newcomer runs it (the real `python -m bot run` process, no
token, nothing set but a faster replay): the demo's signals, automatic paper buy, its fill and its
protection reach the terminal chat."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.processes import bot_env

pytestmark = pytest.mark.e2e
STORY = ("BUY signal:", "Automatic buy placed:", "Order filled:", "Protection placed:")


async def test_make_run_shows_the_product_trading_on_paper(tmp_path: Path) -> None:
    env = bot_env(DATABASE_URL=f"sqlite://{tmp_path}/bot.sqlite3", WEBAPP_PORT="0", DEFAULT_LANGUAGE="en",
                  # Twice the default: the fastest replay at which the jobs (every 5 s at least) still see
                  # every second candle, as at the default; faster, a signal of two or three candles
                  # can fall between two ticks and the story depends on the start's phase.
                  PAPER_REPLAY_SECONDS="2.5",
                  DAILY_ALERT_TIME=(datetime.now(UTC) + timedelta(hours=12)).strftime("%H:%M"))
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=tmp_path, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    assert process.stdout is not None
    output: list[str] = []
    seen: dict[str, float] = {}
    try:
        async def read_story() -> None:
            assert process.stdout is not None
            while len(seen) < len(STORY):
                line = (await process.stdout.readline()).decode()
                if not line:
                    return
                output.append(line)
                for headline in STORY:
                    if headline in line and headline not in seen:
                        seen[headline] = time.monotonic() - started

        with contextlib.suppress(TimeoutError):       # told below, with what the process printed
            await asyncio.wait_for(read_story(), 150)
    finally:
        process.send_signal(signal.SIGINT)
        rest, _ = await asyncio.wait_for(process.communicate(), 30)
        output.append(rest.decode())
    log = "".join(output)
    assert set(seen) == set(STORY), f"seen {seen} in {time.monotonic() - started:.0f} s:\n{log}"
    assert "Demo: bundled 2024 candles, one hour every 2.5 s (PAPER_REPLAY_SECONDS)" in log
    assert process.returncode == 0 and "Traceback" not in log, log
    print("story seconds after start:", {k: round(v, 1) for k, v in seen.items()})
