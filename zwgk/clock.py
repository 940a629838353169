"""The kernel's clock: UTC instants for storage, plain Asia/Shanghai dates for deadlines.

Everything that asks "what time is it" asks here, so a test can set the time instead of
sleeping (SQLite drops time zones: store UTC, keep deadlines as plain dates)::

    with frozen(datetime(2026, 11, 30, 2, tzinfo=UTC)) as clock:
        dispatch(...)               # a failure: next attempt in 0.5 s
        clock.advance(seconds=0.6)  # no sleep: the backoff has run out

The frozen time is process-wide (threads such as the outbox's lease heartbeat see it too)
and does not reach child processes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class FrozenClock:
    """A time that moves only when told to (see :func:`frozen`)."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("a frozen time must be timezone-aware")
        self.now = at.astimezone(UTC)

    def advance(self, delta: timedelta | None = None, /, **kwargs: float) -> datetime:
        """Move the time forward (``advance(seconds=0.6)`` or ``advance(timedelta(...))``)."""
        self.now += (delta or timedelta()) + timedelta(**kwargs)
        return self.now


_frozen: FrozenClock | None = None


def utcnow() -> datetime:
    """Timezone-aware now in UTC."""
    if _frozen is not None:
        return _frozen.now
    return datetime.now(UTC)


def today_shanghai() -> date:
    """Today's date in Asia/Shanghai (the date every deadline is counted in)."""
    return utcnow().astimezone(SHANGHAI).date()


@contextmanager
def frozen(at: datetime | None = None) -> Iterator[FrozenClock]:
    """Hold :func:`utcnow` (and so :func:`today_shanghai`) at ``at`` (default: now) until
    the block ends; the yielded clock's ``advance`` moves it. For tests."""
    global _frozen
    previous = _frozen
    _frozen = FrozenClock(at if at is not None else utcnow())
    try:
        yield _frozen
    finally:
        _frozen = previous


def as_utc(value: datetime | None) -> datetime | None:
    """Re-attach UTC to a naive datetime read back from SQLite."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
