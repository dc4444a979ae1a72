"""`python -m bot backtest`: the summary, the PNG, and one clear line for each bad input."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import build_parser
from bot.cli.backtest import BUNDLED, run_backtest_cli
from bot.settings import load_settings
from tests.conftest import ROOT, candles_dir


async def backtest(*argv: str, market_data: str | None = None) -> tuple[int, str, str]:
    settings = load_settings(**({"MARKET_DATA": market_data} if market_data else {}))
    out, err = io.StringIO(), io.StringIO()
    code = await run_backtest_cli(settings, build_parser().parse_args(["backtest", *argv]), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


async def test_summary_and_equity_png_for_a_period(tmp_path: Path) -> None:
    png = tmp_path / "curve.png"
    code, out, err = await backtest("btc_usdt", "--timeframe", "1h", "--from", "2024-03-01", "--to", "2024-06-30",
                                    "--data", str(candles_dir()), "--output", str(png))
    assert code == 0, err
    assert "Backtest BTC_USDT 1h: 2024-03-01 to 2024-06-30 UTC, 2,928 candles" in out
    assert f"data: {candles_dir() / 'BTC_USDT-1h.csv'} (--data)" in out
    for figure in ("trades:", "win rate", "P/L:", "max drawdown:", "fees paid:", "earlier ones as indicator history"):
        assert figure in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"equity curve: {png}" in out


async def test_the_folder_comes_from_market_data_then_the_bundled_one(tmp_path: Path) -> None:
    code, out, _ = await backtest("ETH_USDT", "--from", "2024-08-01", "--output", str(tmp_path / "a.png"),
                                  market_data=f"replay:{candles_dir()}")
    assert code == 0 and "(MARKET_DATA)" in out
    code, out, _ = await backtest("ETH_USDT", "--from", "2024-08-01", "--output", str(tmp_path / "b.png"),
                                  market_data="exchange")
    assert code == 0 and f"data: {BUNDLED / 'ETH_USDT-1h.csv'} (bundled" in out


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    data = tmp_path / "candles"
    data.mkdir()
    for name in ("BTC_USDT-1h.csv", "ETH_USDT-1h.csv"):
        shutil.copy(candles_dir() / name, data / name)
    (data / "BTC_USDT-4h.csv").write_text("timestamp_ms,open,high,low,close,volume\n")
    return data


@pytest.mark.parametrize(("argv", "message"), [
    (["NOPE_USDT"], "no 1h candles for NOPE_USDT in {dir}; 1h files there: BTC_USDT, ETH_USDT"),
    (["BTC_USDT", "--timeframe", "5m"],
     "no 5m candles for BTC_USDT in {dir}; BTC_USDT has 1h, 4h; 5m files there: none"),
    (["BTC_USDT", "--timeframe", "hourly"], "unknown timeframe 'hourly'; e.g. 5m, 1h, 4h, 1d"),
    (["BTC_USDT", "--timeframe", "4h"], "{dir}/BTC_USDT-4h.csv has no candles"),
    (["BTC_USDT", "--from", "2024-02-30"], "--from '2024-02-30' is not a date; expected YYYY-MM-DD"),
    (["BTC_USDT", "--from", "2024-05-01", "--to", "2024-04-01"], "--from 2024-05-01 is after --to 2024-04-01"),
    (["BTC_USDT", "--from", "2023-01-01", "--to", "2023-12-31"],
     "no candles from 2023-01-01 to 2023-12-31 in BTC_USDT-1h.csv; it covers 2024-01-01 to 2024-09-06"),
    (["BTC_USDT", "--to", "2024-01-05"],
     "too little history: 120 1h candles up to 2024-01-05, the indicators need 214; BTC_USDT-1h.csv starts 2024-01-01"),
    (["BTC_USDT", "--amount", "abc"], "--amount 'abc' is not a number; expected e.g. 100"),
    (["BTC_USDT", "--amount", "-5"], "--amount '-5' must be greater than 0, e.g. 100"),
    (["BTC_USDT", "--amount", "0"], "--amount '0' must be greater than 0, e.g. 100"),
    (["BTC_USDT", "--amount", "NaN"], "--amount 'NaN' must be greater than 0, e.g. 100"),
])
async def test_bad_input_ends_with_one_line(argv: list[str], message: str, folder: Path) -> None:
    png = folder.parent / "x.png"
    code, out, err = await backtest(*argv, "--data", str(folder), "--output", str(png))
    assert code == 2 and out == "" and not png.exists()
    assert err == f"backtest: {message.format(dir=folder)}\n"


async def test_the_range_is_reported_as_typed_with_what_the_data_lacks(folder: Path) -> None:
    code, out, _ = await backtest("BTC_USDT", "--from", "2024-08-01", "--to", "2024-12-31", "--data", str(folder),
                                  "--output", str(folder.parent / "x.png"))
    assert code == 0
    assert out.startswith("Backtest BTC_USDT 1h: 2024-08-01 to 2024-12-31 UTC (the candles cover only "
                          "2024-08-01 00:00 to 2024-09-06 04:00), ")


@pytest.mark.parametrize(("output", "message"), [
    ("nowhere/curve.png", "--output folder {tmp}/nowhere does not exist"),
    ("file.txt/curve.png", "--output folder {tmp}/file.txt is not a folder"),
    (".", "--output {tmp}/. is a folder; name a PNG file, e.g. {tmp}/backtest.png"),
])
async def test_an_output_folder_is_never_created(output: str, message: str, folder: Path) -> None:
    tmp = folder.parent
    (tmp / "file.txt").write_text("")
    code, out, err = await backtest("BTC_USDT", "--data", str(folder), "--output", f"{tmp}/{output}")
    assert code == 2 and out == ""
    assert err == f"backtest: {message.format(tmp=tmp)}\n"
    assert not (tmp / "nowhere").exists()


async def test_a_missing_folder_is_named(tmp_path: Path) -> None:
    code, _, err = await backtest("BTC_USDT", "--data", str(tmp_path / "nowhere"))
    assert code == 2 and err == f"backtest: no candle folder {tmp_path / 'nowhere'}\n"


def test_the_command_runs_through_python_m_bot(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MARKET_DATA", "TELEGRAM", "LIVE"))}
    done = subprocess.run([sys.executable, "-m", "bot", "backtest", "SOL_USDT", "--from", "2024-07-01", "--to",
                           "2024-07-31", "--data", str(candles_dir()), "--output", str(tmp_path / "sol.png")],
                          cwd=tmp_path, env=env | {"PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                          timeout=90)
    assert done.returncode == 0, done.stderr
    assert "Backtest SOL_USDT 1h: 2024-07-01 to 2024-07-31 UTC, 744 candles" in done.stdout
    assert " INFO " not in done.stdout + done.stderr
    assert (tmp_path / "sol.png").stat().st_size > 10_000


def test_a_bad_amount_is_one_line_through_python_m_bot(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MARKET_DATA", "TELEGRAM", "LIVE"))}
    done = subprocess.run([sys.executable, "-m", "bot", "backtest", "SOL_USDT", "--amount", "abc"],
                          cwd=tmp_path, env=env | {"PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                          timeout=90)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "backtest: --amount 'abc' is not a number; expected e.g. 100\n"
