"""Environment for a `python -m bot ...` subprocess in tests.

The subprocess runs in a temporary folder, where `import bot` would otherwise resolve through the
editable install to whichever checkout installed the venv: PYTHONPATH pins it to this checkout."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


# The test emulators enforce no flood limits: the bot need not keep a chat's answers a second apart.
UNPACED = {"TELEGRAM_CHAT_SEND_INTERVAL_SECONDS": "0", "TELEGRAM_SENDS_PER_SECOND": "1000"}


def bot_env(**settings: str) -> dict[str, str]:
    """A clean environment (no inherited settings) with this checkout's code first on the path."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT), **UNPACED, **settings}
