"""The kernel's clock: UTC instants for storage, plain Asia/Shanghai dates for deadlines.

Everything that asks "what time is it" asks here, so a test can set the time instead of
sleeping (SQLite drops time zones: store UTC, keep deadlines as plain dates).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    """Timezone-aware now in UTC."""
    return datetime.now(UTC)


def today_shanghai() -> date:
    """Today's date in Asia/Shanghai (the date every deadline is counted in)."""
    return utcnow().astimezone(SHANGHAI).date()


def as_utc(value: datetime | None) -> datetime | None:
    """Re-attach UTC to a naive datetime read back from SQLite."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
