"""One settings object for the whole program, read from the environment and `.env`.

Bad values stop the program at start with one line naming the setting and what it accepts
(`SettingsError`); secrets are `SecretStr`, so they print masked wherever settings are shown.
"""

from __future__ import annotations

import errno
import re
import socket
from decimal import Decimal
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.domain.schedule import cron_period

DEFAULT_EXCHANGE_API_URL = "https://api.crypto.com/exchange/v1"
DEFAULT_EXCHANGE_WS_URL = "wss://stream.crypto.com/exchange/v1/user"
DEFAULT_TELEGRAM_API_URL = "https://api.telegram.org"
LANGUAGES = ("es", "en")


class SettingsError(Exception):
    """A setting (or a command-line option) has a value the program refuses or cannot use: a bad
    value, a port in use, a database that does not exist. The message is one line for the user,
    naming the setting; the command line prints it and exits with status 2."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=True
    )

    LIVE_TRADING: bool = False
    EXCHANGE_CUSTOM_API_KEY: SecretStr | None = None
    EXCHANGE_CUSTOM_API_SECRET: SecretStr | None = None
    EXCHANGE_API_URL: str = DEFAULT_EXCHANGE_API_URL
    EXCHANGE_WS_URL: str = DEFAULT_EXCHANGE_WS_URL

    TELEGRAM_BOT_TOKEN: SecretStr | None = None
    TELEGRAM_API_URL: str = DEFAULT_TELEGRAM_API_URL
    TELEGRAM_ALLOWED_USERS: Annotated[tuple[int, ...], NoDecode] = ()
    # Webhook mode: Telegram POSTs updates to this address (served by the web server, at its path);
    # empty: polling (and a webhook left from before is deleted).
    TELEGRAM_WEBHOOK_URL: str | None = None
    TELEGRAM_WEBHOOK_SECRET: SecretStr | None = None      # empty: derived from the bot token
    # Telegram's flood limits, which every message the bot sends keeps to (bot.telegram.pacing): a
    # pause between two messages in one chat, and messages a second in all (a little under its 30).
    TELEGRAM_CHAT_SEND_INTERVAL_SECONDS: float = Field(default=1.0, ge=0, le=60)
    TELEGRAM_SENDS_PER_SECOND: int = Field(default=28, ge=1, le=1000)

    DATABASE_URL: str = "sqlite://data/bot.sqlite3"
    REDIS_URL: str | None = None
    # Replicas (with REDIS_URL): the leader's lease and each running job's lock, both renewed every
    # third of it by their holder; a dead leader is replaced within two of these.
    LEADER_LOCK_SECONDS: float = Field(default=15, ge=0.5, le=600)

    WEBAPP_HOST: str = "127.0.0.1"
    WEBAPP_PORT: int = Field(default=8080, ge=0, le=65535)
    WEBAPP_PUBLIC_URL: str | None = None

    DEFAULT_LANGUAGE: str = "es"
    TIMEZONE: str = "UTC"
    DAILY_ALERT_TIME: str = "08:00"

    # Periods a cron schedule repeats evenly (bot/domain/schedule.py): a divisor of a minute, whole
    # minutes dividing an hour, or whole hours dividing a day; each at least its minimum.
    SYNC_INTERVAL_SECONDS: int = Field(default=60, ge=5)
    SIGNAL_INTERVAL_SECONDS: int = Field(default=30, ge=5)
    MARKET_INTERVAL_SECONDS: int = Field(default=300, ge=30)
    # Indicator snapshots and signal decisions older than this are rolled up every hour
    # (bot/services/retention.py); orders and executed history are never pruned.
    SIGNAL_RETENTION_DAYS: int = Field(default=7, ge=1, le=3650)

    # The exchange's circuit breaker: it opens after this many failed requests in a row (5xx, timeouts,
    # 42901), then reads every EXCHANGE_CIRCUIT_RETRY_SECONDS (doubling, jittered) until one succeeds.
    EXCHANGE_CIRCUIT_FAILURES: int = Field(default=5, ge=1, le=1000)
    EXCHANGE_CIRCUIT_RETRY_SECONDS: float = Field(default=5, gt=0, le=600)

    LOG_LEVEL: str = "INFO"
    LOG_FORMAT: str = "text"
    MARKET_DATA: str = "exchange"

    # Paper exchange (LIVE_TRADING=false).
    PAPER_STARTING_BALANCES: str = "USDT=10000"
    PAPER_SLIPPAGE_PERCENT: Decimal = Field(default=Decimal("0.05"), ge=0, le=10)
    PAPER_MAKER_FEE_PERCENT: Decimal = Field(default=Decimal("0.25"), ge=0, le=5)
    PAPER_TAKER_FEE_PERCENT: Decimal = Field(default=Decimal("0.50"), ge=0, le=5)
    # Replayed candle files (MARKET_DATA=replay:DIR, and the sandbox demo): real seconds per candle.
    PAPER_REPLAY_SECONDS: Decimal = Field(default=Decimal(5), ge=Decimal("0.1"), le=3600)

    # Signal strategy (bot/domain/strategy.py).
    STRATEGY_RSI_BUY: Decimal = Field(default=Decimal(30), gt=0, lt=100)
    STRATEGY_RSI_SELL: Decimal = Field(default=Decimal(70), gt=0, lt=100)
    STRATEGY_MIN_VOLUME_RATIO: Decimal = Field(default=Decimal("0.5"), ge=0)
    STRATEGY_REBUY_MOVE_PERCENT: Decimal = Field(default=Decimal(3), ge=0)

    # The crypto.com v1 simulator (`python -m bot simulator`).
    SIMULATOR_API_KEY: str | None = None
    SIMULATOR_API_SECRET: SecretStr | None = None

    @field_validator("LIVE_TRADING", mode="before")
    @classmethod
    def _exact_bool(cls, value: Any) -> bool:
        # Only the literal words decide the trading mode: "yes", "1" or "True " could be typos,
        # and a typo must never be read as "send real orders".
        if isinstance(value, bool):
            return value
        if value == "true":
            return True
        if value == "false":
            return False
        raise ValueError(f"got {value!r}; accepted: true or false (lower case)")

    @field_validator("TELEGRAM_ALLOWED_USERS", mode="before")
    @classmethod
    def _user_ids(cls, value: Any) -> tuple[int, ...]:
        if value is None or value == "":
            return ()
        if isinstance(value, int):
            return (value,)
        if isinstance(value, (list, tuple)):
            items = [str(v) for v in value]
        else:
            items = [part.strip() for part in str(value).split(",") if part.strip()]
        ids = []
        for item in items:
            if not re.fullmatch(r"\d{1,20}", item):
                raise ValueError(f"{item!r} is not a numeric Telegram user id; accepted: ids like 123456789,987654321")
            ids.append(int(item))
        return tuple(ids)

    @field_validator("DEFAULT_LANGUAGE")
    @classmethod
    def _language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"got {value!r}; accepted: es or en")
        return value

    @field_validator("TIMEZONE")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"got {value!r}; accepted: an IANA time zone such as Europe/Madrid or UTC") from None
        return value

    @field_validator("DAILY_ALERT_TIME")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        match = re.fullmatch(r"(\d{1,2}):(\d{2})", value.strip())
        if not match or int(match[1]) > 23 or int(match[2]) > 59:
            raise ValueError(f"got {value!r}; accepted: HH:MM, e.g. 08:00")
        return f"{int(match[1]):02d}:{match[2]}"

    @field_validator("SYNC_INTERVAL_SECONDS", "SIGNAL_INTERVAL_SECONDS", "MARKET_INTERVAL_SECONDS")
    @classmethod
    def _cron_period(cls, value: int) -> int:
        if cron_period(value) is None:
            raise ValueError(f"{value} s does not divide a minute, an hour or a day evenly; use e.g. 5, 6, 10, 12, "
                             "15, 20, 30, 60, 120, 300, 600, 900, 1800, 3600 or 86400")
        return value

    @field_validator("LOG_LEVEL")
    @classmethod
    def _level(cls, value: str) -> str:
        upper = value.upper()
        if upper not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(f"got {value!r}; accepted: DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return upper

    @field_validator("LOG_FORMAT")
    @classmethod
    def _log_format(cls, value: str) -> str:
        if value not in ("text", "json"):
            raise ValueError(f"got {value!r}; accepted: text or json")
        return value

    @field_validator("MARKET_DATA")
    @classmethod
    def _market_data(cls, value: str) -> str:
        if value == "exchange" or (value.startswith("replay:") and len(value) > len("replay:")):
            return value
        raise ValueError(f"got {value!r}; accepted: exchange or replay:DIR")

    @field_validator("DATABASE_URL")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if not re.match(r"^(sqlite|postgres|postgresql|asyncpg|psycopg)://", value):
            raise ValueError("accepted: sqlite://PATH or postgres://USER@HOST:PORT/DB (postgresql:// too)")
        if value.startswith("sqlite://") and not value.removeprefix("sqlite://").split("?", 1)[0]:
            raise ValueError("sqlite:// needs a file path, e.g. sqlite://data/bot.sqlite3 (relative to the "
                             "working folder) or sqlite:///srv/bot/bot.sqlite3 (absolute)")
        if value.startswith("sqlite://") and ":memory:" in value:
            # Order history is kept forever and every start catches up from what is stored: a database
            # that vanishes at exit would make each start a first run (and the migrations would go to
            # a connection the bot never reads).
            raise ValueError("an in-memory SQLite database loses every order and setting when the bot "
                             "stops; name a file, e.g. sqlite://data/bot.sqlite3")
        return value

    @field_validator("REDIS_URL", "WEBAPP_PUBLIC_URL", "EXCHANGE_CUSTOM_API_KEY", "EXCHANGE_CUSTOM_API_SECRET",
                     "TELEGRAM_BOT_TOKEN", "SIMULATOR_API_KEY", "SIMULATOR_API_SECRET", "TELEGRAM_WEBHOOK_URL",
                     "TELEGRAM_WEBHOOK_SECRET", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("WEBAPP_PUBLIC_URL")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        # Telegram opens Mini Apps over HTTPS only; a plain http:// address would fail in the client.
        if value is not None and not re.match(r"^https://[^/\s]+", value):
            raise ValueError("accepted: the dashboard's public HTTPS address, e.g. https://bot.example.org")
        return value.rstrip("/") if value is not None else None

    @field_validator("TELEGRAM_WEBHOOK_URL")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("accepted: the public HTTPS address Telegram will POST updates to, "
                             "e.g. https://bot.example.org/telegram/webhook")
        return value

    @field_validator("TELEGRAM_WEBHOOK_SECRET")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()):
            raise ValueError("accepted: 1 to 256 letters, digits, _ or - (or leave empty to derive one)")
        return value

    @field_validator("REDIS_URL")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^rediss?://", value):
            raise ValueError("accepted: redis://HOST:PORT/DB (or leave empty for in-process)")
        return value

    @field_validator("TELEGRAM_BOT_TOKEN")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.fullmatch(r"\d+:[A-Za-z0-9_-]+", value.get_secret_value()):
            raise ValueError("does not look like a bot token; accepted: the token from @BotFather, digits:letters")
        return value

    @field_validator("PAPER_STARTING_BALANCES")
    @classmethod
    def _balances(cls, value: str) -> str:
        parse_balances(value)
        return value

    @model_validator(mode="after")
    def _webhook_over_https(self) -> Settings:
        # Telegram calls https:// only; plain http is for a local Bot API server or the emulator.
        if (self.TELEGRAM_WEBHOOK_URL and self.TELEGRAM_WEBHOOK_URL.startswith("http://")
                and self.TELEGRAM_API_URL.rstrip("/") == DEFAULT_TELEGRAM_API_URL):
            raise ValueError("TELEGRAM_WEBHOOK_URL: Telegram only calls https:// addresses; got an http:// one")
        return self

    @model_validator(mode="after")
    def _live_needs_keys(self) -> Settings:
        if self.LIVE_TRADING and (self.EXCHANGE_CUSTOM_API_KEY is None or self.EXCHANGE_CUSTOM_API_SECRET is None):
            raise ValueError(
                "LIVE_TRADING=true needs EXCHANGE_CUSTOM_API_KEY and EXCHANGE_CUSTOM_API_SECRET; "
                "set both, or set LIVE_TRADING=false for the paper exchange"
            )
        return self

    def __repr_args__(self):
        # repr()/str() show the masked view: URLs may carry passwords too.
        yield from self.masked().items()

    # Derived views -------------------------------------------------------------------------

    @property
    def mode(self) -> str:
        return "live" if self.LIVE_TRADING else "paper"

    @property
    def sandbox(self) -> bool:
        """No bot token: talk to the local Telegram emulator instead of Telegram."""
        return self.TELEGRAM_BOT_TOKEN is None

    def secret_values(self) -> list[str]:
        """Every secret in clear, for the log filter that masks them."""
        out = []
        for secret in (self.EXCHANGE_CUSTOM_API_KEY, self.EXCHANGE_CUSTOM_API_SECRET,
                       self.TELEGRAM_BOT_TOKEN, self.SIMULATOR_API_SECRET, self.TELEGRAM_WEBHOOK_SECRET):
            if secret is not None and secret.get_secret_value():
                out.append(secret.get_secret_value())
        for url in (self.DATABASE_URL, self.REDIS_URL):
            password = _url_password(url)
            if password:
                out.append(password)
        return out

    def masked(self) -> dict[str, str]:
        """Every setting as text with secrets and URL passwords masked, for `check` and logs."""
        shown: dict[str, str] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                text = "********"
            elif value is None:
                text = "(unset)"
            elif isinstance(value, tuple):
                text = ",".join(str(v) for v in value) or "(empty)"
            else:
                text = str(value)
            if name in {"DATABASE_URL", "REDIS_URL"} and value:
                text = mask_url(text)
            shown[name] = text
        return shown


def unusable_address(exc: OSError, host: str, port: int, *, host_setting: str, port_setting: str) -> SettingsError:
    """Why a server could not listen on host:port, in one line naming the setting to change."""
    if isinstance(exc, socket.gaierror):
        return SettingsError(f"{host_setting}: {host!r} does not resolve to an address; use e.g. 127.0.0.1")
    if exc.errno == errno.EADDRINUSE:
        return SettingsError(f"{port_setting}: {host}:{port} is already in use (another copy running?); "
                             f"stop it or choose another port")
    if exc.errno == errno.EADDRNOTAVAIL:
        return SettingsError(f"{host_setting}: {host!r} is not an address of this machine; use e.g. 127.0.0.1")
    if exc.errno == errno.EACCES:
        return SettingsError(f"{port_setting}: port {port} needs privileges; choose a port above 1023")
    return SettingsError(f"{port_setting}: cannot listen on {host}:{port}: {exc.strerror or exc}")


def _url_password(url: str | None) -> str | None:
    if not url:
        return None
    match = re.match(r"^[a-z+]+://[^:/@]*:([^@]*)@", url)
    return match[1] if match and match[1] else None


def mask_url(url: str) -> str:
    return re.sub(r"^([a-z+]+://[^:/@]*:)([^@]*)@", r"\1****@", url)


def parse_balances(text: str) -> dict[str, Decimal]:
    """`USDT=10000,BTC=0.5` -> {"USDT": Decimal("10000"), "BTC": Decimal("0.5")}."""
    balances: dict[str, Decimal] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        match = re.fullmatch(r"([A-Z0-9]{2,12})=(\d+(?:\.\d+)?)", part)
        if not match:
            raise ValueError(f"{part!r} is not ASSET=AMOUNT; accepted: e.g. USDT=10000,BTC=0.5")
        balances[match[1]] = Decimal(match[2])
    return balances


def load_settings(**overrides: Any) -> Settings:
    """Build the settings or raise `SettingsError` with one line per refused value."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(_explain(exc)) from None


def _explain(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors(include_url=False, include_input=False):
        name = ".".join(str(part) for part in error["loc"]) or "settings"
        message = str(error["msg"]).removeprefix("Value error, ")
        lines.append(f"{name}: {message}" if error["loc"] else message)
    return "Invalid setting: " + "; ".join(lines)
