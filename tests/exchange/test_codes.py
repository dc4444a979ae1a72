"""The v1 code registry covers every code our own code gives, and every message id it names is translated."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

from bot.exchange.codes import CODES, http_status, name_of

ROOT = Path(__file__).resolve().parents[2]
RAISED = re.compile(r"""(?:EngineReject|Refusal|error_for_code)\(\s*"(\d+)\"""")


def codes_raised_in(folder: str) -> set[str]:
    return {m for path in (ROOT / folder).rglob("*.py") for m in RAISED.findall(path.read_text())}


def test_every_code_the_engine_the_simulator_and_the_adapters_give_is_in_the_registry() -> None:
    raised = codes_raised_in("bot/exchange")
    assert {"204", "306", "40004", "140001"} <= raised        # the scan sees them
    assert raised - set(CODES) == set()


def test_the_simulator_answers_with_the_registry_name_and_status() -> None:
    assert name_of("306") == "INSUFFICIENT_AVAILABLE_BALANCE" and http_status("306") == 500
    assert name_of("40801") == "ERROR" and http_status("40801") == 408
    assert http_status("0") == 200 and http_status("424242") == 400


def test_every_message_key_has_a_spanish_translation() -> None:
    # Read as a catalog: `make locales-update` wraps long entries over several lines.
    with (ROOT / "locales" / "es" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    keys = [c.message_key for c in CODES.values() if c.message_key]
    assert len(keys) == 12
    for key in keys:
        message = catalog.get(key)
        assert message is not None and message.string and message.string != key, key
