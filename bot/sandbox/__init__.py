"""The local Telegram sandbox: a Bot API emulator on loopback plus a terminal chat."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from bot.sandbox.emulator import BotApiEmulator
from bot.settings import Settings

SANDBOX_TOKEN = "123456:SANDBOX"
DEMO_USER_ID = 1_000_001


@dataclass
class SandboxHandle:
    emulator: BotApiEmulator
    url: str
    token: str
    user_id: int
    runner: web.AppRunner

    async def close(self) -> None:
        await self.runner.cleanup()


async def start_sandbox(settings: Settings, *, port: int = 0) -> SandboxHandle:
    """Start the emulator on a free loopback port. The chat user is the first allowed user, else a demo id."""
    emulator = BotApiEmulator()
    # A long-polling getUpdates waits up to its timeout: shutdown does not wait for it.
    runner = web.AppRunner(emulator.make_app(), access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    bound = runner.addresses[0][1]
    user_id = settings.TELEGRAM_ALLOWED_USERS[0] if settings.TELEGRAM_ALLOWED_USERS else DEMO_USER_ID
    return SandboxHandle(emulator, f"http://127.0.0.1:{bound}", SANDBOX_TOKEN, user_id, runner)


__all__ = ["DEMO_USER_ID", "SANDBOX_TOKEN", "BotApiEmulator", "SandboxHandle", "start_sandbox"]
