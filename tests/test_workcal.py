"""Working-day calendar: each documented edge case by name."""

from __future__ import annotations

from datetime import date

from workflows.workcal import HOLIDAY, WORKDAY, WorkCalendar, estimated_holidays

cal = WorkCalendar()


def test_adjusted_saturday_is_a_working_day() -> None:
    # 2026-10-10 is a Saturday made a working day (调休) for the National Day break.
    assert cal.is_workday(date(2026, 10, 10))
    assert not cal.is_workday(date(2026, 10, 3))


def test_national_day_break_is_skipped() -> None:
    assert cal.add_workdays(date(2026, 9, 30), 3).date == date(2026, 10, 10)
    assert cal.add_workdays(date(2026, 9, 30), 3).provisional is False


def test_deadline_landing_on_adjusted_day() -> None:
    # Counting 1 working day from Friday 2026-10-09 lands on Saturday 2026-10-10 (调休).
    assert cal.add_workdays(date(2026, 10, 9), 1).date == date(2026, 10, 10)


def test_uncovered_year_is_provisional_and_does_not_crash() -> None:
    result = cal.add_workdays(date(2026, 12, 30), 3)
    assert result.provisional is True
    # 2026-12-31 (Thu) counts; 2027-01-01 元旦 is estimated off; Sat/Sun off; Mon 01-04.
    assert result.date == date(2027, 1, 5)


def test_uncovered_year_estimates_statutory_holidays() -> None:
    days = estimated_holidays(2027)
    assert days[date(2027, 2, 6)] == "春节"  # 正月初一 2027
    assert days[date(2027, 2, 5)] == "春节"  # 除夕
    assert days[date(2027, 10, 1)] == "国庆节"
    assert not cal.is_workday(date(2027, 10, 1))
    assert cal.day(date(2027, 10, 1)).provisional


def test_zero_days_returns_start() -> None:
    assert cal.add_workdays(date(2026, 10, 3), 0).date == date(2026, 10, 3)


def test_negative_counts_backwards() -> None:
    assert cal.add_workdays(date(2026, 10, 10), -1).date == date(2026, 10, 9)
    assert cal.add_workdays(date(2026, 10, 10), -3).date == date(2026, 9, 30)


def test_override_is_consulted_first() -> None:
    custom = WorkCalendar({date(2026, 11, 25): HOLIDAY, date(2026, 11, 28): WORKDAY})
    assert not custom.is_workday(date(2026, 11, 25))
    assert custom.is_workday(date(2026, 11, 28))  # a Saturday
    assert custom.add_workdays(date(2026, 11, 24), 1).date == date(2026, 11, 26)


def test_override_makes_uncovered_year_exact() -> None:
    custom = WorkCalendar({date(2027, 1, 4): WORKDAY})
    info = custom.day(date(2027, 1, 4))
    assert info.workday and not info.provisional


def test_month_end_and_leap_day_are_ordinary_dates() -> None:
    assert cal.add_workdays(date(2024, 2, 28), 1).date == date(2024, 2, 29)
    assert cal.add_workdays(date(2026, 1, 30), 1).date == date(2026, 2, 2)


def test_workdays_between() -> None:
    assert cal.workdays_between(date(2026, 9, 30), date(2026, 10, 10)) == 3
    assert cal.workdays_between(date(2026, 10, 10), date(2026, 9, 30)) == -3
