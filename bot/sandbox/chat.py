"""A chat with the bot in the terminal: type a message; buttons print numbered; type a number to press one."""

from __future__ import annotations

import asyncio
import html
import re
import sys
import threading
from typing import Any

from bot.sandbox.emulator import BotApiEmulator


def render_message(message: dict[str, Any]) -> tuple[str, list[str]]:
    """Plain text of a bot message and the callback data of its buttons, in display order."""
    text = re.sub(r"<[^>]+>", "", message.get("text") or message.get("caption") or "")
    lines = [html.unescape(text)]
    buttons: list[str] = []
    for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
        labels = []
        for button in row:
            buttons.append(button.get("callback_data") or "")
            labels.append(f"[{len(buttons)}] {button.get('text', '')}")
        lines.append("  ".join(labels))
    return "\n".join(lines), buttons


def _stdin_lines() -> asyncio.Queue[str]:
    """stdin read by a daemon thread: a blocked read must never keep the process from exiting."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str] = asyncio.Queue()

    def read() -> None:
        while True:
            line = sys.stdin.readline()
            loop.call_soon_threadsafe(queue.put_nowait, line)
            if line == "":
                return

    threading.Thread(target=read, name="sandbox-stdin", daemon=True).start()
    return queue


async def run_terminal_chat(emulator: BotApiEmulator, user_id: int, language: str) -> None:
    state: dict[str, Any] = {"buttons": [], "message_id": None}

    def show(kind: str, message: dict[str, Any]) -> None:
        text, buttons = render_message(message)
        print(f"\nbot> {text}", flush=True)
        if buttons:
            state["buttons"], state["message_id"] = buttons, message["message_id"]

    emulator.listeners.append(show)
    print(f"Telegram sandbox: you are user {user_id}. Type /start (a number presses a button).", flush=True)
    lines = _stdin_lines()
    while True:
        line = await lines.get()
        if line == "":
            # No terminal (stdin closed): keep the bot running quietly.
            await asyncio.Event().wait()
        line = line.strip()
        if not line:
            continue
        if line.isdigit() and state["buttons"]:
            index = int(line) - 1
            if 0 <= index < len(state["buttons"]):
                emulator.push_callback(user_id, state["message_id"], state["buttons"][index], language_code=language)
            else:
                print(f"(no button {line})", flush=True)
            continue
        emulator.push_message(user_id, line, language_code=language)
