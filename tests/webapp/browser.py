"""Debian's Chromium driven by Playwright (never a downloaded browser), and the Mini App's address as
Telegram opens it: launch data in the URL fragment, theme parameters included."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox.initdata import mini_app_url

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]
THEMES = {
    "light": {"bg_color": "#ffffff", "text_color": "#000000", "hint_color": "#707579", "link_color": "#3390ec",
              "button_color": "#3390ec", "button_text_color": "#ffffff", "secondary_bg_color": "#f4f4f5"},
    "dark": {"bg_color": "#17212b", "text_color": "#f5f5f5", "hint_color": "#708499", "link_color": "#6ab3f3",
             "button_color": "#5288c1", "button_text_color": "#ffffff", "secondary_bg_color": "#232e3c"},
}
PHONE = {"width": 360, "height": 740}


@dataclass
class Console:
    """Everything the page reported as an error: console.error lines and uncaught exceptions."""
    errors: list[str] = field(default_factory=list)

    def watch(self, page: Any) -> None:
        page.on("console", lambda message: self.errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))


def address(base_url: str, init_data: str, path: str = "", theme: str = "light") -> str:
    """Where Telegram would open `path`: /app/<path> with the launch data in the fragment."""
    url = mini_app_url(base_url, init_data, theme=THEMES[theme])
    head, _, fragment = url.partition("#")
    return f"{head}{path}#{fragment}"


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    if not os.path.exists(CHROMIUM):  # noqa: ASYNC240 - one stat before a browser starts
        pytest.skip("Debian's chromium is not installed (make test installs it with apt)")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def open_page(browser: Any, url: str, console: Console | None = None) -> Any:
    page = await browser.new_page(viewport=PHONE)
    if console is not None:
        console.watch(page)
    await page.goto(url)
    await page.wait_for_selector("body[data-state]", timeout=10_000)
    return page


async def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path
