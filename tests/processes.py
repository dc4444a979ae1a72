"""Environment for a `python -m bot ...` subprocess in tests.

The subprocess runs in a temporary folder, where `import bot` would otherwise resolve through the
editable install to whichever checkout installed the venv: PYTHONPATH pins it to this checkout."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def bot_env(**settings: str) -> dict[str, str]:
    """A clean environment (no inherited settings) with this checkout's code first on the path."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT), **settings}
