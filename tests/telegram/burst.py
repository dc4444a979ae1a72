"""A burst of commands from many allowed users at once, through the Bot API emulator to the running
application, and what came back: which answer belongs to which command, in which language, and how
long each took. Shared by the burst test (behaviour) and `bench/telegram.py --parts burst` (figures)."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from bot.db.models import User
from bot.sandbox import BotApiEmulator

UNKNOWN = "/frobnicate"
# How each command's answer opens, by language: tells an answer's command and language apart.
OPENINGS: dict[str, dict[str, str]] = {
    "/start": {"en": "Hello, ", "es": "¡Hola, "},
    "/help": {"en": "<b>Commands:</b>", "es": "<b>Comandos:</b>"},
    "/orders": {"en": "📋 <b>Open orders</b>", "es": "📋 <b>Órdenes abiertas</b>"},
    "/signals": {"en": "📈 <b>Signals</b>", "es": "📈 <b>Señales</b>"},
    "/watchlist": {"en": "👁 <b>Watchlist</b>", "es": "👁 <b>Lista de seguimiento</b>"},
    "/alerts": {"en": "🔔 <b>Alerts</b>", "es": "🔔 <b>Alertas</b>"},
    "/portfolio": {"en": "💼 <b>Portfolio</b>", "es": "💼 <b>Cartera</b>"},
    "/settings": {"en": "⚙️ <b>Settings</b>", "es": "⚙️ <b>Ajustes</b>"},
    UNKNOWN: {"en": "I don't know the command /frobnicate.", "es": "No conozco el comando /frobnicate."},
}
COMMANDS = list(OPENINGS)
FIRST_USER = 700_001


@dataclass(frozen=True)
class BurstUser:
    user_id: int
    language_code: str              # what Telegram says about the user
    saved: str | None = None        # the language chosen in /settings, which wins

    @property
    def language(self) -> str:
        return self.saved or self.language_code


def burst_users(count: int) -> list[BurstUser]:
    """A third Spanish by Telegram's language_code, a third Spanish by their saved choice over an
    English Telegram, the rest English (every sixth of them despite a Spanish Telegram)."""
    users = []
    for n in range(count):
        if n % 3 == 0:
            users.append(BurstUser(FIRST_USER + n, "es"))
        elif n % 3 == 1:
            users.append(BurstUser(FIRST_USER + n, "en", saved="es"))
        else:
            users.append(BurstUser(FIRST_USER + n, "es" if n % 2 else "en", saved="en" if n % 2 else None))
    return users


def allowed_users_setting(users: list[BurstUser], *others: int) -> str:
    return ",".join(str(u) for u in [*others, *(u.user_id for u in users)])


async def save_choices(users: list[BurstUser]) -> None:
    for user in users:
        if user.saved:
            await User.create(telegram_id=user.user_id, language=user.saved)


def script(index: int, per_user: int) -> list[str]:
    """The user's commands in order: every kind, each user starting at a different one."""
    return [COMMANDS[(index + n) % len(COMMANDS)] for n in range(per_user)]


@dataclass(frozen=True)
class Sent:
    chat_id: int
    command: str
    at: float                       # monotonic: when the update reached the emulator


@dataclass(frozen=True)
class Answer:
    chat_id: int
    text: str
    at: float                       # monotonic: when the send reached the emulator


class AnswerCounter:
    """Every message the bot sends, as it arrives (a listener: no rescans of the call log per send),
    and a wait for a given number of them."""

    def __init__(self, emulator: BotApiEmulator) -> None:
        self.answers: list[Answer] = []
        self._target = 0
        self._reached = asyncio.Event()
        emulator.listeners.append(self._on_message)

    def _on_message(self, kind: str, message: dict[str, Any]) -> None:
        if kind != "message":
            return
        self.answers.append(Answer(int(message["chat"]["id"]), str(message.get("text", "")), time.monotonic()))
        if self._target and len(self.answers) >= self._target:
            self._reached.set()

    async def wait_for(self, count: int, timeout: float) -> bool:
        """True once `count` messages were sent; False if `timeout` passed first."""
        self._target = count
        if len(self.answers) >= count:
            return True
        try:
            await asyncio.wait_for(self._reached.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def settled(self, quiet: float) -> None:
        """Until no message came for `quiet` seconds: room for an extra answer to show."""
        while True:
            seen = len(self.answers)
            await asyncio.sleep(quiet)
            if len(self.answers) == seen:
                return


def push_burst(emulator: BotApiEmulator, users: list[BurstUser], per_user: int) -> list[Sent]:
    """All the commands at once, the users' messages interleaved as they would arrive."""
    scripts = [script(n, per_user) for n in range(len(users))]
    sent = []
    for step in range(per_user):
        for user, commands in zip(users, scripts, strict=True):
            emulator.push_message(user.user_id, commands[step], language_code=user.language_code)
            sent.append(Sent(user.user_id, commands[step], time.monotonic()))
    return sent


def read_answer(text: str) -> tuple[str, str] | None:
    """(command, language) the answer is to, None when it is no answer to a command of the burst."""
    for command, openings in OPENINGS.items():
        for language, opening in openings.items():
            if text.startswith(opening):
                return command, language
    return None


def match(sent: list[Sent], answers: list[Answer]) -> dict[str, list[float]]:
    """Seconds from each command's arrival to its answer's send, by command: in each chat the n-th
    answer to a command goes with the n-th time it was sent. Unmatched answers are left out."""
    waiting: dict[tuple[int, str], list[float]] = defaultdict(list)
    for s in sent:
        waiting[(s.chat_id, s.command)].append(s.at)
    seconds: dict[str, list[float]] = defaultdict(list)
    for answer in sorted(answers, key=lambda a: a.at):
        read = read_answer(answer.text)
        if read is None or not waiting[(answer.chat_id, read[0])]:
            continue
        seconds[read[0]].append(answer.at - waiting[(answer.chat_id, read[0])].pop(0))
    return dict(seconds)


def percentile(values: list[float], share: float) -> float:
    """Nearest rank."""
    ordered = sorted(values)
    rank = max(1, -(-round(share * 1000) * len(ordered) // 1000))
    return ordered[min(len(ordered), rank) - 1]
