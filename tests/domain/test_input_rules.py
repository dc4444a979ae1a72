"""What people type for a setting: accepted as they write it, or refused with a reason key."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.domain.input_rules import (
    Invalid,
    NumberField,
    parse_flag,
    parse_number,
    parse_time_of_day,
    parse_timezone,
)

D = Decimal


@pytest.mark.parametrize(("typed", "locale", "value"), [
    ("150", None, D(150)), (" 2,5 ", None, D("2.5")), ("1,234.50", None, D("1234.50")),
    ("1.234,50", None, D("1234.50")), ("150 USD", None, D(150)), ("$150", None, D(150)), ("3 %", None, D(3)),
    ("1,000", "en", D(1000)), ("1.000", "es", D(1000)), ("0.01", None, D("0.01")), ("1e2", None, D(100)),
])
def test_amounts_are_read_as_people_write_them(typed: str, locale: str | None, value: Decimal) -> None:
    assert parse_number(typed, NumberField.AMOUNT, locale) == value


@pytest.mark.parametrize(("typed", "key", "values"), [
    ("lots", "not_a_number", {"text": "lots", "example": "150"}),
    ("", "not_a_number", {"text": "", "example": "150"}),
    ("NaN", "not_a_number", {"text": "NaN", "example": "150"}),
    ("1..2", "not_a_number", {"text": "1..2", "example": "150"}),
    ("-5", "not_positive", {}),
    ("0", "not_positive", {}),
    ("1e9", "too_large", {"maximum": "1000000"}),
    ("10.123", "too_many_decimals", {"decimals": "2"}),
    ("1,000", "too_many_decimals", {"decimals": "2"}),       # without a locale, a comma is a decimal comma
])
def test_bad_amounts_are_refused_with_the_reason(typed: str, key: str, values: dict[str, str]) -> None:
    refused = parse_number(typed, NumberField.AMOUNT)
    assert isinstance(refused, Invalid)
    assert (refused.key, refused.values, refused.field) == (key, values, "amount_usd")


def test_percent_limits_differ_per_field() -> None:
    assert parse_number("90", NumberField.STOP_LOSS) == D(90)
    assert isinstance(parse_number("90.5", NumberField.STOP_LOSS), Invalid)
    assert parse_number("250", NumberField.TAKE_PROFIT) == D(250)


def test_refusals_read_in_english_for_logs() -> None:
    refused = parse_number("1e9", NumberField.AMOUNT)
    assert isinstance(refused, Invalid) and refused.text == "the value must be at most 1000000"


@pytest.mark.parametrize(("typed", "expected"), [("8:00", "08:00"), ("0830", "08:30"), ("23.59", "23:59")])
def test_times_of_day(typed: str, expected: str) -> None:
    assert parse_time_of_day(typed) == expected


@pytest.mark.parametrize("typed", ["24:00", "8", "noon", "12:60"])
def test_bad_times_of_day(typed: str) -> None:
    refused = parse_time_of_day(typed)
    assert isinstance(refused, Invalid) and refused.key == "bad_time"


def test_time_zones_forgive_case_and_spaces_and_suggest_near_misses() -> None:
    assert parse_timezone("europe/madrid") == "Europe/Madrid"
    assert parse_timezone("America/New York") == "America/New_York"
    assert parse_timezone("utc") == "UTC"
    refused = parse_timezone("Europe/Madird")
    assert isinstance(refused, Invalid) and refused.key == "unknown_timezone"
    assert refused.suggestions[0] == "Europe/Madrid"


@pytest.mark.parametrize(("raw", "value"), [(True, True), ("yes", True), ("off", False), (0, False)])
def test_flags(raw: object, value: bool) -> None:
    assert parse_flag(raw, "trade") is value


def test_a_flag_that_is_neither() -> None:
    refused = parse_flag("maybe", "trade")
    assert isinstance(refused, Invalid) and (refused.key, refused.field) == ("not_a_flag", "trade")
