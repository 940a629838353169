"""Working-day calendar: each documented edge case by name.

The official data is the tests' own (tests/holidays.py: 2020–2026), so "a year the data does
not cover" is 2027 here whatever the installed chinesecalendar release knows.
"""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import pytest

from tests.holidays import GIVEN, GivenHolidays
from workflows import workcal
from workflows.workcal import HOLIDAY, WORKDAY, WorkCalendar, estimated_holidays

cal = WorkCalendar(official=GIVEN)


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


def test_an_injected_uncovered_year_is_estimated(caplog: pytest.LogCaptureFixture) -> None:
    """The same path with 2026 taken out of the data: weekends and the statutory days are
    off, the 调休 Saturday is not guessed, every date is provisional, and one warning."""
    without_2026 = WorkCalendar(official=GivenHolidays(GIVEN.days, years=range(2020, 2026)))
    workcal._warned_years.discard(2026)
    with caplog.at_level("WARNING", logger="workflows.workcal"):
        national_day = without_2026.day(date(2026, 10, 1))
        adjusted_saturday = without_2026.day(date(2026, 10, 10))
        result = without_2026.add_workdays(date(2026, 9, 30), 3)
    assert (national_day.workday, national_day.source, national_day.name) == (
        False,
        "estimate",
        "国庆节",
    )
    assert not adjusted_saturday.workday and adjusted_saturday.provisional
    # Estimated: 1–3 Oct off (the statutory days), Mon 5 Oct on; the real break ran to 7 Oct.
    assert result.date == date(2026, 10, 7) and result.provisional
    assert cal.add_workdays(date(2026, 9, 30), 3).date == date(2026, 10, 10)
    warnings = [r.getMessage() for r in caplog.records if "2026" in r.getMessage()]
    assert len(warnings) == 1 and "zwgk calendar holidays import" in warnings[0]


def test_the_tests_use_their_own_holiday_data() -> None:
    """Every calendar built without ``official`` (load_calendar in the flows, the CLI in
    process) reads the tests' data: 2027 is not covered, whatever the release knows."""
    assert workcal.OFFICIAL is GIVEN
    assert WorkCalendar().day(date(2027, 3, 1)).provisional


def test_given_data_matches_the_installed_release_where_both_cover() -> None:
    """The fixture is chinesecalendar 1.11's data: checked day by day against the installed
    release for every year both cover (a correction in a new release shows up here)."""
    d, compared = date(2020, 1, 1), 0
    while d <= date(2026, 12, 31):
        try:
            official = chinese_calendar.is_workday(d)
        except NotImplementedError:
            d = date(d.year + 1, 1, 1)
            continue
        assert GIVEN.is_workday(d) == official, d
        compared += 1
        d += timedelta(days=1)
    assert compared >= 365
