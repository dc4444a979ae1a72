"""Settings refuse bad values at start with one clear line naming the setting."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.settings import SettingsError, load_settings
from tests.processes import bot_env

SETTING_NAMES = [
    "LIVE_TRADING", "EXCHANGE_CUSTOM_API_KEY", "EXCHANGE_CUSTOM_API_SECRET", "EXCHANGE_API_URL", "EXCHANGE_WS_URL",
    "TELEGRAM_BOT_TOKEN", "TELEGRAM_API_URL", "TELEGRAM_ALLOWED_USERS", "DATABASE_URL", "REDIS_URL",
    "WEBAPP_HOST", "WEBAPP_PORT", "WEBAPP_PUBLIC_URL", "DEFAULT_LANGUAGE", "TIMEZONE", "DAILY_ALERT_TIME",
    "SYNC_INTERVAL_SECONDS", "SIGNAL_INTERVAL_SECONDS", "MARKET_INTERVAL_SECONDS", "SIGNAL_RETENTION_DAYS",
    "LOG_LEVEL", "MARKET_DATA",
]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)   # no stray .env


def refusal(monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_defaults_match_the_design() -> None:
    s = load_settings()
    assert s.LIVE_TRADING is False and s.mode == "paper"
    assert s.EXCHANGE_API_URL == "https://api.crypto.com/exchange/v1"
    assert s.EXCHANGE_WS_URL == "wss://stream.crypto.com/exchange/v1/user"
    assert s.DATABASE_URL == "sqlite://data/bot.sqlite3"
    assert s.REDIS_URL is None and s.TELEGRAM_BOT_TOKEN is None and s.sandbox
    assert (s.WEBAPP_HOST, s.WEBAPP_PORT) == ("127.0.0.1", 8080)
    assert (s.DEFAULT_LANGUAGE, s.TIMEZONE, s.DAILY_ALERT_TIME) == ("es", "UTC", "08:00")
    assert (s.SYNC_INTERVAL_SECONDS, s.SIGNAL_INTERVAL_SECONDS, s.MARKET_INTERVAL_SECONDS) == (60, 30, 300)
    assert (s.LOG_LEVEL, s.MARKET_DATA) == ("INFO", "exchange")


@pytest.mark.parametrize("value", ["yes", "True", "TRUE", "1", "on", " true"])
def test_live_trading_accepts_only_true_or_false(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    message = refusal(monkeypatch, LIVE_TRADING=value)
    assert message.startswith("Invalid setting: LIVE_TRADING:")
    assert "accepted: true or false" in message


def test_live_trading_false_is_paper(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVE_TRADING", "false")
    assert load_settings().mode == "paper"


def test_non_numeric_allowed_user_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    message = refusal(monkeypatch, TELEGRAM_ALLOWED_USERS="123,@alice")
    assert "TELEGRAM_ALLOWED_USERS" in message and "'@alice' is not a numeric Telegram user id" in message


def test_allowed_users_parse_with_spaces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_ALLOWED_USERS", " 111, 222 ,333")
    assert load_settings().TELEGRAM_ALLOWED_USERS == (111, 222, 333)


def test_live_trading_without_keys_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    message = refusal(monkeypatch, LIVE_TRADING="true")
    assert "LIVE_TRADING=true needs EXCHANGE_CUSTOM_API_KEY and EXCHANGE_CUSTOM_API_SECRET" in message


def test_live_trading_with_only_a_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    message = refusal(monkeypatch, LIVE_TRADING="true", EXCHANGE_CUSTOM_API_KEY="k" * 20)
    assert "EXCHANGE_CUSTOM_API_SECRET" in message


def test_live_trading_with_keys_is_live(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVE_TRADING", "true")
    monkeypatch.setenv("EXCHANGE_CUSTOM_API_KEY", "key-abc")
    monkeypatch.setenv("EXCHANGE_CUSTOM_API_SECRET", "secret-xyz-123")
    s = load_settings()
    assert s.mode == "live"


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("DEFAULT_LANGUAGE", "fr", "accepted: es or en"),
    ("TIMEZONE", "Mars/Base", "IANA time zone"),
    ("DAILY_ALERT_TIME", "25:00", "HH:MM"),
    ("LOG_LEVEL", "LOUD", "DEBUG, INFO"),
    ("MARKET_DATA", "files", "exchange or replay:DIR"),
    ("DATABASE_URL", "mysql://x", "sqlite://PATH"),
    ("DATABASE_URL", "sqlite://", "sqlite:// needs a file path"),
    ("DATABASE_URL", "sqlite://:memory:", "name a file"),
    ("REDIS_URL", "localhost:6379", "redis://"),
    ("TELEGRAM_BOT_TOKEN", "not a token", "@BotFather"),
    ("SYNC_INTERVAL_SECONDS", "soon", "SYNC_INTERVAL_SECONDS"),
    ("SYNC_INTERVAL_SECONDS", "4", "greater than or equal to 5"),
    ("SYNC_INTERVAL_SECONDS", "7", "does not divide a minute, an hour or a day"),
    ("SIGNAL_INTERVAL_SECONDS", "420", "does not divide a minute, an hour or a day"),
    ("MARKET_INTERVAL_SECONDS", "20", "greater than or equal to 30"),
    ("MARKET_INTERVAL_SECONDS", "5400", "does not divide a minute, an hour or a day"),
])
def test_other_bad_values_name_the_setting(monkeypatch: pytest.MonkeyPatch, name: str, value: str,
                                           expected: str) -> None:
    message = refusal(monkeypatch, **{name: value})
    assert name in message and expected in message


@pytest.mark.parametrize("url", ["postgres://bot:hunter2@db:5432/bot", "postgresql://bot:hunter2@db:5432/bot",
                                 "sqlite://data/bot.sqlite3", "sqlite:///srv/bot/bot.sqlite3"])
def test_both_postgres_spellings_and_sqlite_paths_are_accepted(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    settings = load_settings()
    assert url == settings.DATABASE_URL
    assert "hunter2" not in settings.masked()["DATABASE_URL"]
    assert ("hunter2" in settings.secret_values()) == url.startswith("postgres")


def test_every_interval_a_cron_schedule_repeats_evenly_is_accepted() -> None:
    from bot.domain.schedule import valid_periods
    from bot.jobs.scheduler import interval_spec

    periods = valid_periods(5)
    assert periods[:8] == [5, 6, 10, 12, 15, 20, 30, 60] and periods[-3:] == [28800, 43200, 86400]
    for seconds in periods:
        assert seconds == load_settings(SYNC_INTERVAL_SECONDS=seconds).SYNC_INTERVAL_SECONDS
        interval_spec(seconds)                              # the scheduler takes each of them


def test_secrets_are_masked_when_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXCHANGE_CUSTOM_API_KEY", "key-visible-nowhere")
    monkeypatch.setenv("EXCHANGE_CUSTOM_API_SECRET", "very-secret-value")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345678")
    monkeypatch.setenv("DATABASE_URL", "postgres://bot:db-password@db:5432/bot")
    s = load_settings()
    shown = repr(s) + str(s) + repr(s.masked())
    for secret in ("key-visible-nowhere", "very-secret-value", "ABCdefGHIjklMNOpqrSTUvwxYZ012345678", "db-password"):
        assert secret not in shown
    assert s.masked()["DATABASE_URL"] == "postgres://bot:****@db:5432/bot"


def test_dotenv_file_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    (tmp_path / ".env").write_text("TELEGRAM_ALLOWED_USERS=42\nDEFAULT_LANGUAGE=en\n")
    s = load_settings()
    assert s.TELEGRAM_ALLOWED_USERS == (42,) and s.DEFAULT_LANGUAGE == "en"


def test_program_stops_at_start_with_one_line(tmp_path) -> None:
    env = bot_env(LIVE_TRADING="yes")
    done = subprocess.run([sys.executable, "-m", "bot", "check"], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=60,
                          )
    assert done.returncode == 2
    assert done.stderr.strip() == "Invalid setting: LIVE_TRADING: got 'yes'; accepted: true or false (lower case)"
