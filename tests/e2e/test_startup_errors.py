"""Start-up and command-line errors, as a user meets them: the real `python -m bot ...` process ends
within seconds with one line naming the setting or resource, exit status 2 and no traceback; and
Ctrl-C stops it at any moment, start-up included, within 5 s."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.e2e
PG_SERVER = "postgres://postgres@127.0.0.1:5432"


def bot_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT),
           "DATABASE_URL": f"sqlite://{tmp_path}/bot.sqlite3", "WEBAPP_PORT": "0", "LOG_LEVEL": "INFO"}
    return env | settings


def run_bot(tmp_path: Path, *argv: str, timeout: float = 30, **settings: str) -> tuple[int, str, str, float]:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "bot", *argv], cwd=tmp_path, env=bot_env(tmp_path, **settings),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    return done.returncode, done.stdout, done.stderr, time.monotonic() - started


def assert_one_line_refusal(result: tuple[int, str, str, float], expected: str, *, within: float = 25) -> None:
    code, out, err, elapsed = result
    assert code == 2, out + err
    assert "Traceback" not in out + err
    assert err.rstrip("\n").splitlines()[-1] == expected, err
    assert elapsed < within, f"{elapsed:.1f} s"


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield int(taken.getsockname()[1])


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never says a word (a firewall or a hung server)."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        yield int(silent.getsockname()[1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def postgres_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


# --- ports and hosts ---------------------------------------------------------------------------


def test_web_port_in_use(tmp_path: Path, busy_port: int) -> None:
    assert_one_line_refusal(run_bot(tmp_path, "run", WEBAPP_PORT=str(busy_port)),
                            f"WEBAPP_PORT: 127.0.0.1:{busy_port} is already in use (another copy running?); "
                            f"stop it or choose another port")


def test_web_host_not_on_this_machine(tmp_path: Path) -> None:
    assert_one_line_refusal(run_bot(tmp_path, "run", WEBAPP_HOST="192.0.2.1"),
                            "WEBAPP_HOST: '192.0.2.1' is not an address of this machine; use e.g. 127.0.0.1")


def test_simulator_port_in_use(tmp_path: Path, busy_port: int) -> None:
    assert_one_line_refusal(run_bot(tmp_path, "simulator", "--port", str(busy_port)),
                            f"--port: 127.0.0.1:{busy_port} is already in use (another copy running?); "
                            f"stop it or choose another port")


def test_simulator_host_that_does_not_resolve(tmp_path: Path) -> None:
    assert_one_line_refusal(run_bot(tmp_path, "simulator", "--host", "no-such-host.invalid", "--port", "0"),
                            "--host: 'no-such-host.invalid' does not resolve to an address; use e.g. 127.0.0.1")


# --- market data and databases -------------------------------------------------------------------


def test_replay_folder_that_does_not_exist(tmp_path: Path) -> None:
    assert_one_line_refusal(run_bot(tmp_path, "run", MARKET_DATA=f"replay:{tmp_path}/nope"),
                            f"MARKET_DATA: replay folder {tmp_path}/nope does not exist")


def test_sqlite_url_without_a_path(tmp_path: Path) -> None:
    assert_one_line_refusal(run_bot(tmp_path, "run", DATABASE_URL="sqlite://"),
                            "Invalid setting: DATABASE_URL: sqlite:// needs a file path, e.g. "
                            "sqlite://data/bot.sqlite3 (relative to the working folder) or "
                            "sqlite:///srv/bot/bot.sqlite3 (absolute)")


def test_sqlite_folder_that_does_not_exist_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such"
    assert_one_line_refusal(run_bot(tmp_path, "migrate", DATABASE_URL=f"sqlite://{missing}/bot.sqlite3"),
                            f"DATABASE_URL: folder {missing} does not exist; create it first "
                            f"(sqlite://data/bot.sqlite3 is relative to the working folder, "
                            f"sqlite:///abs/path/bot.sqlite3 absolute)")
    assert not (tmp_path / "no").exists()


def test_the_default_data_folder_is_created(tmp_path: Path) -> None:
    code, out, err, _ = run_bot(tmp_path, "migrate", DATABASE_URL="sqlite://data/bot.sqlite3")
    assert code == 0 and out == "migrations applied\n" and err == ""
    assert (tmp_path / "data" / "bot.sqlite3").is_file()


def test_postgres_database_that_does_not_exist(tmp_path: Path) -> None:
    if not postgres_answers():
        pytest.skip("no PostgreSQL on 127.0.0.1:5432")
    assert_one_line_refusal(run_bot(tmp_path, "run", DATABASE_URL=f"{PG_SERVER}/no_such_database_here"),
                            "DATABASE_URL: database 'no_such_database_here' does not exist on 127.0.0.1:5432; "
                            "create it (createdb no_such_database_here) or name another")


def test_postgres_that_does_not_answer(tmp_path: Path, silent_port: int) -> None:
    assert_one_line_refusal(run_bot(tmp_path, "run", DATABASE_URL=f"postgres://postgres@127.0.0.1:{silent_port}/x"),
                            f"DATABASE_URL: no answer from 127.0.0.1:{silent_port} within 5 s")


def test_postgres_with_nothing_listening(tmp_path: Path) -> None:
    port = free_port()
    assert_one_line_refusal(run_bot(tmp_path, "migrate", DATABASE_URL=f"postgresql://postgres@127.0.0.1:{port}/x"),
                            f"DATABASE_URL: nothing answers at 127.0.0.1:{port} (is PostgreSQL running?)")


def test_postgresql_scheme_is_accepted(tmp_path: Path) -> None:
    database = os.environ.get("TEST_DATABASE_URL", "")
    if not database.startswith("postgres"):
        pytest.skip("TEST_DATABASE_URL names no PostgreSQL database (make test's second pass does)")
    url = "postgresql://" + database.split("://", 1)[1]
    code, out, err, _ = run_bot(tmp_path, "migrate", DATABASE_URL=url)
    assert (code, out, err) == (0, "migrations applied\n", "")


# --- a data folder that cannot be written never hangs ----------------------------------------------


def test_a_file_where_the_data_folder_should_be(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("not a folder")
    assert_one_line_refusal(run_bot(tmp_path, "run", DATABASE_URL="sqlite://data/bot.sqlite3"),
                            "DATABASE_URL: data is not a folder")


def test_a_folder_where_nothing_can_be_created(tmp_path: Path) -> None:
    # /proc refuses new files even to root, who ignores file modes (CI runs as root).
    assert_one_line_refusal(run_bot(tmp_path, "run", DATABASE_URL="sqlite:///proc/bot.sqlite3"),
                            "DATABASE_URL: cannot write /proc/bot.sqlite3: unable to open database file")


def test_a_database_file_on_a_read_only_filesystem(tmp_path: Path) -> None:
    """The case that used to hang for 10 minutes ignoring Ctrl-C: Tortoise's migration recorder kept
    its connection lock after the failed PRAGMA on a read-only file."""
    source, mounted = tmp_path / "rw", tmp_path / "ro"
    source.mkdir()
    mounted.mkdir()
    code, _, err, _ = run_bot(tmp_path, "migrate", DATABASE_URL=f"sqlite://{source}/bot.sqlite3")
    assert code == 0, err
    bind = subprocess.run(["mount", "--bind", "-o", "ro", str(source), str(mounted)], capture_output=True)
    if bind.returncode != 0:
        pytest.skip("read-only bind mounts need privileges this machine does not give")
    try:
        assert_one_line_refusal(run_bot(tmp_path, "run", DATABASE_URL=f"sqlite://{mounted}/bot.sqlite3"),
                                f"DATABASE_URL: cannot write {mounted}/bot.sqlite3: unable to open database file")
    finally:
        subprocess.run(["umount", str(mounted)], check=True)


# --- Ctrl-C at any moment -------------------------------------------------------------------------


def interrupt_after(tmp_path: Path, delay: float, **settings: str) -> tuple[int | None, float, str]:
    process = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=tmp_path, env=bot_env(tmp_path, **settings),
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(delay)
    sent = time.monotonic()
    process.send_signal(signal.SIGINT)
    try:
        output, _ = process.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        return None, time.monotonic() - sent, output
    return process.returncode, time.monotonic() - sent, output


@pytest.mark.parametrize("delay", [0.5, 2.0, 6.0])
def test_ctrl_c_stops_the_bot_at_any_moment(tmp_path: Path, delay: float) -> None:
    code, elapsed, output = interrupt_after(tmp_path, delay)
    assert code is not None and elapsed < 5, f"still running 5 s after Ctrl-C:\n{output}"
    assert code in (0, 130) and "Traceback" not in output, output


def test_ctrl_c_while_the_database_does_not_answer(tmp_path: Path, silent_port: int) -> None:
    code, elapsed, output = interrupt_after(tmp_path, 2.0,
                                            DATABASE_URL=f"postgres://postgres@127.0.0.1:{silent_port}/x")
    assert code is not None and elapsed < 5, f"still running 5 s after Ctrl-C:\n{output}"
    assert code in (0, 130) and "Traceback" not in output, output


# --- one-shot commands print what they are for, not library INFO lines -------------------------------


@pytest.mark.parametrize("command", ["migrate", "check"])
def test_one_shot_commands_print_no_library_info_lines(tmp_path: Path, command: str) -> None:
    code, out, err, _ = run_bot(tmp_path, command, MARKET_DATA=f"replay:{ROOT / 'bot' / 'data' / 'candles'}")
    assert code == 0, out + err
    assert " INFO " not in out + err and "Tortoise-ORM" not in out + err
    assert err == ""


def test_every_command_names_modules_that_exist() -> None:
    import importlib

    from bot.cli.commands import MODULES

    for modules in MODULES.values():
        for module in modules:
            importlib.import_module(module)
