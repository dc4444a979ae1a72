"""What people type for a coin's settings or their own, checked: the value, or why not.

The same rules serve the bot's conversations and the Mini App's PATCH, so both refuse the same
inputs with the same words. A refusal is a key and its values (`Invalid`), worded per language at
the edge; the English templates double as the gettext message ids (extracted with -k N_).
"""

from __future__ import annotations

import difflib
import functools
import re
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum


def N_(text: str) -> str:
    """Marks a template for extraction by pybabel (-k N_)."""
    return text


TEMPLATES: dict[str, str] = {
    "not_a_number": N_("“{text}” is not a number: send digits only, e.g. {example}"),
    "not_positive": N_("the value must be greater than 0"),
    "too_large": N_("the value must be at most {maximum}"),
    "too_many_decimals": N_("use at most {decimals} decimals"),
    "bad_time": N_("“{text}” is not a time of day: use HH:MM, e.g. 08:00"),
    "unknown_timezone": N_("“{text}” is not a time zone I know: use a name such as Europe/Madrid or "
                           "America/New_York"),
    "unknown_language": N_("“{text}” is not a language I speak: es or en"),
    "unknown_symbol": N_("{text} is not listed on the exchange"),
    "already_watched": N_("{symbol} is already on the watchlist"),
    "not_watched": N_("{symbol} is not on the watchlist"),
    "not_a_flag": N_("“{text}” is not yes or no"),
    "unknown_setting": N_("“{text}” is not a setting that can be changed here"),
    "not_enough_history": N_("{symbol} has only {count} candles of history: too few to analyze (needs {needed})"),
}


@dataclass(frozen=True)
class Invalid:
    """Why an input was refused: a template key, its values, and the field it was for (if any)."""
    key: str
    args: tuple[tuple[str, str], ...] = ()
    field: str | None = None
    suggestions: tuple[str, ...] = ()

    @classmethod
    def of(cls, key: str, *, field: str | None = None, suggestions: tuple[str, ...] = (),
           **values: object) -> Invalid:
        if key not in TEMPLATES:
            raise KeyError(f"no input template {key!r}")
        return cls(key, tuple((name, str(value)) for name, value in values.items()), field, suggestions)

    @property
    def values(self) -> dict[str, str]:
        return dict(self.args)

    @property
    def text(self) -> str:
        """The English wording, for logs and API clients that show it as is."""
        return TEMPLATES[self.key].format(**self.values)


class NumberField(StrEnum):
    AMOUNT = "amount_usd"
    STOP_LOSS = "stop_loss_percent"
    TAKE_PROFIT = "take_profit_percent"


@dataclass(frozen=True)
class NumberLimits:
    maximum: Decimal
    decimals: int
    example: str


# A stop-loss at 100 % would sit at a price of 0; past 90 % it protects nothing anyone means.
# An amount above a million a buy is a typo far more often than an intent.
LIMITS: dict[NumberField, NumberLimits] = {
    NumberField.AMOUNT: NumberLimits(Decimal(1_000_000), 2, "150"),
    NumberField.STOP_LOSS: NumberLimits(Decimal(90), 2, "3"),
    NumberField.TAKE_PROFIT: NumberLimits(Decimal(1000), 2, "4.5"),
}
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_UNITS = ("usdt", "usd", "$", "%")


def parse_number(raw: str | Decimal | int, field: NumberField, locale: str | None = None) -> Decimal | Invalid:
    """A positive number within the field's limits, typed as people type it: `2,5`, `1.234,50`,
    `150 USD`, `3 %`. A lone separator between digit groups of three is the reader's thousands
    separator (`1,000` in en, `1.000` in es); without a locale it is a decimal separator, and
    decimals are counted as typed, so `1.500` is refused (too many decimals) rather than read as
    1.5 or 1500."""
    limits = LIMITS[field]
    if isinstance(raw, bool):
        return Invalid.of("not_a_number", field=field.value, text=raw, example=limits.example)
    text = str(raw)
    cleaned = "".join(text.split()).lower()
    for unit in _UNITS:
        cleaned = cleaned.removesuffix(unit)
    cleaned = cleaned.removeprefix("$")
    thousands = {"en": ",", "es": "."}.get(locale or "")
    if thousands and re.fullmatch(rf"\d{{1,3}}(\{thousands}\d{{3}})+", cleaned):
        cleaned = cleaned.replace(thousands, "")
    elif "," in cleaned and "." in cleaned:
        # The separator that comes last is the decimal one: 1,234.50 or 1.234,50.
        if cleaned.rfind(",") > cleaned.rfind("."):
            cleaned = cleaned.replace(".", "").replace(",", ".")
        else:
            cleaned = cleaned.replace(",", "")
    elif cleaned.count(",") == 1:
        cleaned = cleaned.replace(",", ".")
    if not _PLAIN_NUMBER.fullmatch(cleaned):
        return Invalid.of("not_a_number", field=field.value, text=text.strip()[:40], example=limits.example)
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return Invalid.of("not_a_number", field=field.value, text=text.strip()[:40], example=limits.example)
    if value <= 0:
        return Invalid.of("not_positive", field=field.value)
    if value > limits.maximum:
        return Invalid.of("too_large", field=field.value, maximum=limits.maximum)
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > limits.decimals:
        return Invalid.of("too_many_decimals", field=field.value, decimals=limits.decimals)
    return value


def parse_flag(raw: object, field: str) -> bool | Invalid:
    """A Trade / Alert / Margin flag from JSON or a form: true/false, yes/no, on/off, 1/0."""
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in {"true", "yes", "on", "1", "si", "sí"}:
        return True
    if text in {"false", "no", "off", "0"}:
        return False
    return Invalid.of("not_a_flag", field=field, text=str(raw)[:40])


def parse_time_of_day(raw: str) -> str | Invalid:
    """`8:00`, `08:00`, `8.30` or `0830` -> `HH:MM`."""
    text = raw.strip()
    match = re.fullmatch(r"(\d{1,2})[:.h]?(\d{2})", text)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        return Invalid.of("bad_time", field="daily_alert_time", text=text[:40])
    return f"{int(match[1]):02d}:{match[2]}"


@functools.cache
def _zones() -> dict[str, str]:
    """Every IANA zone this machine knows, by its lower-case name."""
    return {name.lower(): name for name in zoneinfo.available_timezones()}


def parse_timezone(raw: str) -> str | Invalid:
    """An IANA zone name, forgiving case and spaces (`europe/madrid`, `America/New York`); a near
    miss is refused with the closest names as suggestions."""
    text = raw.strip()
    wanted = "_".join(text.split()).lower()
    zones = _zones()
    if wanted in zones:
        return zones[wanted]
    near = difflib.get_close_matches(wanted, list(zones), n=3, cutoff=0.8)
    return Invalid.of("unknown_timezone", field="timezone", suggestions=tuple(zones[n] for n in near),
                      text=text[:64])
