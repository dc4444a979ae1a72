"""Each person's settings: language, time zone, daily report time, default SL/TP % for coins they
add. Unset values fall back to the product's (TIMEZONE, DAILY_ALERT_TIME, 3 % / 3 %); what is
typed is checked by the same rules as everywhere else (`bot.domain.input_rules`)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bot.db.models import User
from bot.db.repositories import UserRepository
from bot.domain.input_rules import Invalid, NumberField, parse_number, parse_time_of_day, parse_timezone

LANGUAGES = ("es", "en")
PRODUCT_STOP_LOSS_PERCENT = Decimal(3)
PRODUCT_TAKE_PROFIT_PERCENT = Decimal(3)


@dataclass(frozen=True)
class SettingDefaults:
    language: str = "es"
    timezone: str = "UTC"
    daily_alert_time: str = "08:00"


@dataclass(frozen=True)
class UserSettings:
    telegram_id: int
    language: str | None                 # None: never chosen (Telegram's language, else the default)
    timezone: str
    daily_alert_time: str
    stop_loss_percent: Decimal
    take_profit_percent: Decimal
    timezone_chosen: bool = False
    daily_alert_time_chosen: bool = False
    stop_loss_chosen: bool = False
    take_profit_chosen: bool = False


class UserSettingsService:
    def __init__(self, defaults: SettingDefaults, repository: UserRepository | None = None) -> None:
        self.defaults = defaults
        self.repository = repository or UserRepository()

    async def get(self, telegram_id: int) -> UserSettings:
        return self._of(telegram_id, await self.repository.get(telegram_id))

    async def timezone(self, telegram_id: int) -> str:
        return (await self.get(telegram_id)).timezone

    async def set_language(self, telegram_id: int, raw: str) -> UserSettings | Invalid:
        language = raw.strip().lower()
        if language not in LANGUAGES:
            return Invalid.of("unknown_language", field="language", text=raw.strip()[:16])
        return await self._write(telegram_id, language=language)

    async def set_timezone(self, telegram_id: int, raw: str) -> UserSettings | Invalid:
        zone = parse_timezone(raw)
        if isinstance(zone, Invalid):
            return zone
        return await self._write(telegram_id, timezone=zone)

    async def set_daily_time(self, telegram_id: int, raw: str) -> UserSettings | Invalid:
        moment = parse_time_of_day(raw)
        if isinstance(moment, Invalid):
            return moment
        return await self._write(telegram_id, daily_alert_time=moment)

    async def set_default_percent(self, telegram_id: int, field: NumberField, raw: str | Decimal,
                                  locale: str | None = None) -> UserSettings | Invalid:
        """The SL or TP % given to coins this person adds to the watchlist."""
        column = {NumberField.STOP_LOSS: "default_stop_loss_percent",
                  NumberField.TAKE_PROFIT: "default_take_profit_percent"}.get(field)
        if column is None:
            raise ValueError(f"{field} has no per-user default")
        value = parse_number(raw, field, locale)
        if isinstance(value, Invalid):
            return value
        return await self._write(telegram_id, **{column: value})

    async def _write(self, telegram_id: int, **columns: str | Decimal) -> UserSettings:
        return self._of(telegram_id, await self.repository.update(telegram_id, **columns))

    def _of(self, telegram_id: int, row: User | None) -> UserSettings:
        stop = row.default_stop_loss_percent if row is not None else None
        take = row.default_take_profit_percent if row is not None else None
        zone = row.timezone if row is not None else None
        at = row.daily_alert_time if row is not None else None
        return UserSettings(
            telegram_id=telegram_id, language=row.language if row is not None else None,
            timezone=zone or self.defaults.timezone, daily_alert_time=at or self.defaults.daily_alert_time,
            stop_loss_percent=Decimal(str(stop)) if stop is not None else PRODUCT_STOP_LOSS_PERCENT,
            take_profit_percent=Decimal(str(take)) if take is not None else PRODUCT_TAKE_PROFIT_PERCENT,
            timezone_chosen=zone is not None, daily_alert_time_chosen=at is not None,
            stop_loss_chosen=stop is not None, take_profit_chosen=take is not None)
