"""One logging configuration for the whole process; secrets are masked at every level."""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterable
from datetime import UTC, datetime

MASK = "********"
# Shapes that are secret whatever settings say: bot tokens inside Bot API URLs, signatures.
_PATTERNS = [
    re.compile(r"(?<![0-9])\d{6,12}:[A-Za-z0-9_-]{30,}"),
    re.compile(r'("sig"\s*:\s*")[0-9a-f]{64}(")'),
]


class SecretMaskingFilter(logging.Filter):
    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def mask(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        for pattern in _PATTERNS:
            text = pattern.sub(lambda m: (m.group(1) + MASK + m.group(2)) if m.groups() else MASK, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = self.mask(message)
        if record.exc_info and record.exc_info[1] is not None:
            # Render the traceback now, masked, so a secret inside an exception never leaks.
            formatted = logging.Formatter().formatException(record.exc_info)
            masked = masked + "\n" + self.mask(formatted)
            record.exc_info = None
            record.exc_text = None
        record.msg = masked
        record.args = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line, for log collectors (LOG_FORMAT=json). It formats what the masking filter
    left: the message, with any traceback already rendered and masked into it."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": os.getpid(),       # which replica, when several write to one collector
        }
        return json.dumps(entry, ensure_ascii=False)


# Libraries whose INFO lines say nothing a user acts on ("Tortoise-ORM shutdown").
QUIET_LIBRARIES = ("tortoise", "aiosqlite", "asyncpg")


def configure_logging(level: str, secrets: Iterable[str], log_format: str = "text", *,
                      command_line: bool = False) -> SecretMaskingFilter:
    """`command_line=True` for the one-shot commands (check, migrate, backfill, backtest): their
    output is what they print, so only warnings and errors are logged unless LOG_LEVEL=DEBUG."""
    threshold: int = logging.getLevelName(level)
    if command_line and threshold > logging.DEBUG:
        threshold = max(threshold, logging.WARNING)
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json"
                         else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    mask = SecretMaskingFilter(secrets)
    handler.addFilter(mask)
    root.addHandler(handler)
    root.setLevel(threshold)
    # Third-party loggers that print request URLs (with the bot token) at DEBUG go through the
    # same handler, so the filter covers them too.
    logging.getLogger("aiohttp.access").setLevel(max(threshold, logging.INFO))
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(threshold if threshold <= logging.DEBUG else max(threshold, logging.WARNING))
    return mask
