"""A refused input (`Invalid`) in the reader's words: one line, its numbers in the reader's locale.

Shared by the bot and the Mini App, so a refusal reads the same in both. `translate` is the
reader's gettext (aiogram's `gettext`, or the I18n object's `gettext` bound to a locale).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from bot.domain.input_rules import TEMPLATES, Invalid
from bot.presentation.formatting import number

log = logging.getLogger(__name__)
NUMERIC_VALUES = ("maximum",)


def invalid_text(invalid: Invalid, translate: Callable[[str], str], locale: str) -> str:
    values = invalid.values
    for name in NUMERIC_VALUES:
        if name in values:
            with contextlib.suppress(InvalidOperation):
                values[name] = number(Decimal(values[name]), locale)
    try:
        return translate(TEMPLATES[invalid.key]).format(**values)
    except (KeyError, IndexError, ValueError):
        log.warning("translation of input refusal %s does not fit its values", invalid.key)
        return invalid.text
