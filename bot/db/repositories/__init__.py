"""The query layer: every read and write of the database goes through these repositories.

Services, the Telegram handlers and the Mini App ask here; none builds an ORM query itself.
Repositories return the stored records (read their attributes; write through a repository).
List queries for people are keyset pages: `page(..., cursor=None, limit=20)` returns
`Page(items, next_cursor)`; pass `next_cursor` back for the next page (None: the last one).
"""

from bot.db.models import (
    AutoOrderDecision,
    BalanceRecord,
    IndicatorSnapshot,
    NotificationOutbox,
    OcoGroupRecord,
    OrderRecord,
    PortfolioSnapshot,
    SignalRecord,
    SyncCursor,
    User,
    WatchlistEntry,
)
from bot.db.repositories.actions import DailyReportRepository, PendingActionRepository
from bot.db.repositories.activity import AuditLogRepository, AutoOrderDecisionRepository, OutboxRepository
from bot.db.repositories.balances import BalanceRepository
from bot.db.repositories.cursors import SyncCursorRepository
from bot.db.repositories.groups import BookGroup, OcoGroupRepository
from bot.db.repositories.orders import (
    OPEN_STATUSES,
    BookOrder,
    OrderFilter,
    OrderRepository,
    group_id_of,
    guess_source,
    record_to_order,
)
from bot.db.repositories.pagination import DEFAULT_LIMIT, MAX_LIMIT, InvalidCursor, Page
from bot.db.repositories.portfolio import PortfolioRepository
from bot.db.repositories.retention import RetentionRepository
from bot.db.repositories.signals import (
    IndicatorRepository,
    NewSignal,
    NewSnapshot,
    SignalRepository,
    TrackedRow,
)
from bot.db.repositories.users import UserRepository
from bot.db.repositories.watchlist import WatchlistRepository

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "OPEN_STATUSES",
    "AuditLogRepository",
    "AutoOrderDecision",
    "AutoOrderDecisionRepository",
    "BalanceRecord",
    "BalanceRepository",
    "BookGroup",
    "BookOrder",
    "DailyReportRepository",
    "IndicatorRepository",
    "IndicatorSnapshot",
    "InvalidCursor",
    "NewSignal",
    "NewSnapshot",
    "NotificationOutbox",
    "OcoGroupRecord",
    "OcoGroupRepository",
    "OrderFilter",
    "OrderRecord",
    "OrderRepository",
    "OutboxRepository",
    "Page",
    "PendingActionRepository",
    "PortfolioRepository",
    "PortfolioSnapshot",
    "RetentionRepository",
    "SignalRecord",
    "SignalRepository",
    "SyncCursor",
    "SyncCursorRepository",
    "TrackedRow",
    "User",
    "UserRepository",
    "WatchlistEntry",
    "WatchlistRepository",
    "group_id_of",
    "guess_source",
    "record_to_order",
]
