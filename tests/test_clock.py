"""The kernel clock: a frozen time that tests move instead of sleeping."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from zwgk.clock import frozen, today_shanghai, utcnow


def test_frozen_time_holds_and_advances() -> None:
    at = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
    with frozen(at) as clock:
        assert utcnow() == at and utcnow() == at
        assert clock.advance(seconds=0.6) == at + timedelta(seconds=0.6)
        clock.advance(timedelta(days=1), hours=2)
        assert utcnow() == at + timedelta(days=1, hours=2, seconds=0.6)
    assert abs(utcnow() - datetime.now(UTC)) < timedelta(seconds=5)


def test_today_in_shanghai_turns_at_16_utc() -> None:
    with frozen(datetime(2026, 12, 31, 15, 59, 59, tzinfo=UTC)) as clock:
        assert today_shanghai() == date(2026, 12, 31)
        clock.advance(seconds=1)
        assert today_shanghai() == date(2027, 1, 1)


def test_frozen_time_is_kept_in_utc_and_seen_by_threads() -> None:
    beijing = timezone(timedelta(hours=8))
    with frozen(datetime(2026, 11, 30, 8, 0, tzinfo=beijing)):
        seen: list[datetime] = []
        t = threading.Thread(target=lambda: seen.append(utcnow()))
        t.start()
        t.join()
        assert seen == [datetime(2026, 11, 30, 0, 0, tzinfo=UTC)]
        assert seen[0].tzinfo is UTC


def test_nested_frozen_restores_the_outer_time() -> None:
    outer = datetime(2026, 1, 1, tzinfo=UTC)
    with frozen(outer):
        with frozen(outer + timedelta(days=5)):
            assert utcnow() == outer + timedelta(days=5)
        assert utcnow() == outer


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        with frozen(datetime(2026, 1, 1)):
            pass
