"""`python -m bot COMMAND`: see `bot.cli`."""

import os
import signal
import sys

# Until the command's event loop starts nothing is open, so Ctrl-C simply ends the process (the
# imports take seconds on a busy machine; a KeyboardInterrupt inside them prints a traceback).
signal.signal(signal.SIGINT, lambda signum, frame: os._exit(128 + signum))

from bot.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
