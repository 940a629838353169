from __future__ import annotations

from datetime import date

import pytest

from workflows.obligation import next_month, previous_month, previous_quarter, previous_year
from zwgk.errors import UserError
from zwgk.periods import Cadence, Period


@pytest.mark.parametrize(
    ("text", "cadence", "start", "end"),
    [
        ("2026-11", Cadence.monthly, date(2026, 11, 1), date(2026, 11, 30)),
        ("2024-02", Cadence.monthly, date(2024, 2, 1), date(2024, 2, 29)),
        ("2026-Q4", Cadence.quarterly, date(2026, 10, 1), date(2026, 12, 31)),
        ("2026-q1", Cadence.quarterly, date(2026, 1, 1), date(2026, 3, 31)),
        ("2026", Cadence.yearly, date(2026, 1, 1), date(2026, 12, 31)),
    ],
)
def test_valid_periods(text: str, cadence: Cadence, start: date, end: date) -> None:
    p = Period.parse(text, cadence)
    assert (p.start, p.end) == (start, end)


@pytest.mark.parametrize(
    ("text", "cadence"),
    [
        ("2026-13", Cadence.monthly),
        ("2026-1", Cadence.monthly),
        ("2026/11", Cadence.monthly),
        ("2026", Cadence.monthly),
        ("2026-Q5", Cadence.quarterly),
        ("2026-11", Cadence.yearly),
        ("", Cadence.yearly),
        ("1899", Cadence.yearly),
    ],
)
def test_invalid_periods_name_the_expected_form(text: str, cadence: Cadence) -> None:
    with pytest.raises(UserError) as exc:
        Period.parse(text, cadence)
    assert f"「{text}」" in exc.value.message


def test_labels() -> None:
    assert Period.parse("2026-11", Cadence.monthly).label == "2026年11月"
    assert Period.parse("2026-Q4", Cadence.quarterly).label == "2026年第四季度"


@pytest.mark.parametrize(
    ("text", "cadence", "before"),
    [
        ("2026-11", Cadence.monthly, "2026-10"),
        ("2026-01", Cadence.monthly, "2025-12"),  # across the year
        ("2026-Q2", Cadence.quarterly, "2026-Q1"),
        ("2026-Q1", Cadence.quarterly, "2025-Q4"),  # across the year
        ("2026", Cadence.yearly, "2025"),
    ],
)
def test_the_period_before(text: str, cadence: Cadence, before: str) -> None:
    assert str(Period.parse(text, cadence).previous()) == before


@pytest.mark.parametrize(
    ("today", "quarter"),
    [
        (date(2026, 4, 1), "2026-Q1"),  # the schedule's day: the quarter just ended
        (date(2026, 6, 30), "2026-Q1"),  # the quarter's last day is still inside it
        (date(2026, 7, 1), "2026-Q2"),
        (date(2026, 1, 1), "2025-Q4"),  # New Year: the last quarter of the year before
        (date(2026, 12, 31), "2026-Q3"),
    ],
)
def test_previous_quarter(today: date, quarter: str) -> None:
    assert str(previous_quarter(today)) == quarter


@pytest.mark.parametrize(
    ("today", "month"),
    [
        (date(2026, 3, 1), "2026-02"),
        (date(2026, 3, 31), "2026-02"),
        (date(2026, 1, 1), "2025-12"),  # New Year: December of the year before
        (date(2024, 3, 1), "2024-02"),  # a leap February
    ],
)
def test_previous_month(today: date, month: str) -> None:
    assert str(previous_month(today)) == month


def test_previous_year_and_next_month() -> None:
    assert str(previous_year(date(2027, 1, 2))) == "2026"
    assert str(next_month(date(2026, 12, 25))) == "2027-01"
    assert str(next_month(date(2026, 1, 31))) == "2026-02"
