"""The catalogs are complete: every string marked in the code is in es and en, translated, with the
same placeholders as its message id; they compile without format errors.

Extraction runs with the Makefile's own keywords (BABEL_KEYWORDS) and babel.cfg, so what
`make locales-update` would add is exactly what this test asks for."""

from __future__ import annotations

import re
import string
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = ("es", "en")


def catalog(language: str) -> Catalog:
    with (ROOT / "locales" / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle)


def makefile_keywords() -> list[str]:
    match = re.search(r"^BABEL_KEYWORDS\s*:=\s*(.+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert match, "the Makefile names the extraction keywords in BABEL_KEYWORDS"
    return match.group(1).split()


def _texts(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return value if isinstance(value, tuple) else (value,)


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def untranslated(messages: Catalog) -> list[object]:
    return [m.id for m in messages if m.id and (m.fuzzy or not all(_texts(m.string)))]


def placeholder_mismatches(messages: Catalog) -> list[tuple[object, str]]:
    wrong = []
    for message in messages:
        if not message.id:
            continue
        expected = set().union(*(fields(text) for text in _texts(message.id)))
        wrong += [(message.id, text) for text in _texts(message.string) if text and fields(text) != expected]
    return wrong


def missing_from(messages: Catalog, extracted: Catalog) -> list[object]:
    known = {m.id for m in messages}
    return [m.id for m in extracted if m.id and m.id not in known]


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    target = tmp_path_factory.mktemp("extract") / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
                    *makefile_keywords(), "--no-location", "-o", str(target), "."],
                   cwd=ROOT, check=True, capture_output=True)
    with target.open("rb") as handle:
        return read_po(handle)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_catalog_entry_is_translated(language: str) -> None:
    assert untranslated(catalog(language)) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_string_marked_in_the_code_is_in_the_catalog(extracted: Catalog, language: str) -> None:
    assert len(extracted) > 100      # the extraction really read the code
    assert missing_from(catalog(language), extracted) == [], "run `make locales-update`, then translate"


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_the_placeholders_of_their_message(language: str) -> None:
    assert placeholder_mismatches(catalog(language)) == []


def test_both_languages_hold_the_same_messages() -> None:
    es, en = ({m.id for m in catalog(language) if m.id} for language in LANGUAGES)
    assert es ^ en == set()


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_compiles_without_format_errors(language: str) -> None:
    assert [(message.id, [str(e) for e in found]) for message, found in catalog(language).check()] == []


def test_the_checks_see_a_missing_entry_an_empty_translation_and_a_renamed_placeholder() -> None:
    broken = Catalog(locale="es")
    broken.add("Price: {price}", "Precio: {precio}")
    broken.add("Order filled: {symbol}", "")
    code = Catalog()
    code.add("Price: {price}")
    code.add("Protect")
    assert untranslated(broken) == ["Order filled: {symbol}"]
    assert placeholder_mismatches(broken) == [("Price: {price}", "Precio: {precio}")]
    assert missing_from(broken, code) == ["Protect"]
