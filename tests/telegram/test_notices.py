"""Golden texts: every notification layout in Spanish and English, exactly as people read it.

The texts live in golden/notices.txt (non-breaking spaces shown as plain spaces). After an
intended change of wording, regenerate the file with `UPDATE_GOLDEN=1 pytest tests/telegram/test_notices.py`
and read the diff.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest
from aiogram.utils.i18n import I18n

from bot.domain.events import OrderFilled, ProtectionFailed
from bot.domain.notifications import Kind
from bot.domain.orders import Side
from bot.telegram.callbacks import ProtectCallback
from bot.telegram.notices import Reader, render_event
from tests.telegram.notice_cases import CASES, GROUP

LOCALES = Path(__file__).resolve().parents[2] / "locales"
GOLDEN = Path(__file__).with_name("golden") / "notices.txt"
I18N = I18n(path=LOCALES, default_locale="es", domain="messages")


def rendered_cases() -> str:
    blocks = []
    for name, event in CASES.items():
        for locale in ("en", "es"):
            notice = render_event(event, Reader(I18N, locale))
            assert notice is not None, name
            buttons = " | ".join(f"{b.text} -> {b.callback_data}" for row in notice.buttons for b in row)
            blocks.append(f"== {name} [{locale}] kind={notice.kind.value}" + (f" buttons: {buttons}" if buttons else "")
                          + "\n" + notice.text.replace("\u00a0", " ").replace("\u202f", " "))
    return "\n\n".join(blocks) + "\n"


def test_every_layout_reads_as_its_golden_text_in_both_languages() -> None:
    text = rendered_cases()
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(text)
    expected = GOLDEN.read_text().split("\n\n")
    for got, want in zip(text.split("\n\n"), expected, strict=True):
        assert got == want


def test_a_take_profit_leg_fill_is_told_by_its_groups_closing_message_only() -> None:
    fill = OrderFilled(order_id="1", client_oid="tp", symbol="BTC_USDT", side=Side.SELL, quantity=Decimal("0.01"),
                       price=Decimal(103000), partial=False, role="take_profit")
    assert render_event(fill, Reader(I18N, "es")) is None
    closing = render_event(CASES["take_profit_closed"], Reader(I18N, "es"))
    assert closing is not None and closing.kind is Kind.OCO_CLOSED
    assert "Take-profit ejecutado" in closing.text and "El stop-loss se canceló" in closing.text
    assert "+29,41\u00a0USDT" in closing.text            # rounded to the currency, with it


def test_the_linked_legs_fallback_says_what_exists_and_offers_protect() -> None:
    notice = render_event(CASES["take_profit_refused"], Reader(I18N, "en"))
    assert notice is not None and notice.kind is Kind.PROTECTION
    assert "a stop-loss at 97,000.00\u00a0USDT for 0.01\u00a0BTC" in notice.text
    assert "Take-profit at 103,000.00\u00a0USDT refused: not enough free balance (306)" in notice.text
    assert "Protection placed" not in notice.text and "FAILED" not in notice.text
    [[button]] = notice.buttons
    assert ProtectCallback.unpack(button.callback_data) == ProtectCallback(symbol="BTC_USDT", group=GROUP)


@pytest.mark.parametrize("locale", ["es", "en"])
def test_every_dynamic_value_is_escaped(locale: str) -> None:
    event = ProtectionFailed(group_id=None, symbol="<b>X&Y</b>", wanted_quantity=Decimal(1),
                             protected_quantity=Decimal(0), reason="locked by <manual> & co")
    notice = render_event(event, Reader(I18N, locale))
    assert notice is not None
    assert "&lt;b&gt;X&amp;Y&lt;/b&gt;" in notice.text and "locked by &lt;manual&gt; &amp; co" in notice.text
    assert "<b>X" not in notice.text
