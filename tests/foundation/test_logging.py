"""Secrets never reach the logs, even at DEBUG and inside tracebacks."""

from __future__ import annotations

import logging

import pytest

from bot.logging_setup import SecretMaskingFilter, configure_logging

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ"


pytestmark = pytest.mark.usefixtures("restore_logging")


def test_secrets_and_token_shapes_are_masked(capsys) -> None:
    configure_logging("DEBUG", ["api-secret-value-1", TOKEN])
    log = logging.getLogger("test.mask")
    log.debug("POST https://api.telegram.org/bot%s/getMe secret=%s", TOKEN, "api-secret-value-1")
    log.debug('body {"sig": "%s"}', "a" * 64)
    try:
        raise RuntimeError(f"request failed for bot{TOKEN}")
    except RuntimeError:
        log.exception("boom")
    err = capsys.readouterr().err
    assert TOKEN not in err and "api-secret-value-1" not in err and "a" * 64 not in err
    assert "********" in err and "boom" in err and "RuntimeError" in err


def test_unknown_token_shapes_are_masked_too() -> None:
    mask = SecretMaskingFilter([])
    assert "987654321:" not in mask.mask("url /bot987654321:ZZHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ/sendMessage")
