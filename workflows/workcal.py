"""Chinese working-day calendar (工作日): statutory holidays, 调休 working days, overrides.

Order of authority for one date:

1. An administrator override (``zwgk calendar holidays import``) — the office knows the
   State Council notice for next year before any package release does.
2. The official arrangements (``OFFICIAL``): chinesecalendar, which carries the State
   Council's published arrangements (2004–2026 in release 1.11) and raises
   ``NotImplementedError`` for a year it does not cover. Tests put their own data here
   (``WorkCalendar(official=...)`` or by replacing ``OFFICIAL``), so they do not depend on
   which years the installed release covers.
3. For a year neither covers, an estimate: Saturdays and Sundays off, plus the statutory
   holiday days of 《全国年节及纪念日放假办法》 (2024 revision, in force since 2025):
   元旦 1 Jan; 春节 农历除夕 to 正月初三 (4 days); 清明 (the solar term); 劳动节 1–2 May;
   端午 农历五月初五; 中秋 农历八月十五; 国庆 1–3 Oct. The State Council's 调休 swaps
   (bridging weekends into week-long breaks) cannot be predicted, so they are not
   guessed. Every date computed from the estimate is marked **provisional** and a warning
   is logged once per year; nothing raises.

Edge cases, each tested by name: a 调休 Saturday is a working day (2026-10-10); a deadline
N working days after a date that crosses 国庆 skips the whole break; counting into 2027
(not covered) gives a provisional result; ``n == 0`` returns the date itself (even if it is
not a working day); negative ``n`` counts backwards (reminder rungs before a due date).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Protocol

import chinese_calendar
from lunardate import LunarDate
from sqlmodel import select

from models import HolidayOverride
from zwgk.db import session_scope

logger = logging.getLogger(__name__)

HOLIDAY = "holiday"
WORKDAY = "workday"

# A plan's items are never due within this many working days of its issue date (印发日期)
# unless the plan's own words say so ("本文印发5日内"): a plan issued on 30 March gives its
# year-round tasks a first checkpoint at the end of June, not the next day.
MIN_LEAD_WORKDAYS = 10


class OfficialHolidays(Protocol):
    """The State Council's arrangements: ``is_workday`` raises ``NotImplementedError`` for a
    year they do not cover (as chinesecalendar does)."""

    def is_workday(self, d: date) -> bool: ...


OFFICIAL: OfficialHolidays = chinese_calendar


@dataclass(frozen=True)
class DayInfo:
    workday: bool
    provisional: bool
    source: str  # "override" | "official" | "estimate"
    name: str = ""


@dataclass(frozen=True)
class CalendarResult:
    """A date computed from the calendar, and whether any estimated day went into it."""

    date: date
    provisional: bool


@lru_cache(maxsize=64)
def estimated_holidays(year: int) -> dict[date, str]:
    """Statutory holiday days of ``year`` by the 2024 放假办法 (no 调休 guessed)."""
    days: dict[date, str] = {date(year, 1, 1): "元旦"}
    # 春节: 除夕 (the day before 正月初一) to 正月初三.
    new_year = _lunar_to_solar(LunarDate, year, 1, 1)
    for offset in range(-1, 3):
        days[new_year + timedelta(days=offset)] = "春节"
    qingming = date(year, 4, 5)
    try:
        terms = chinese_calendar.get_solar_terms(date(year, 4, 1), date(year, 4, 10))
        qingming = next((d for d, n in terms if n == "清明"), qingming)
    except Exception:  # noqa: BLE001 - the solar-term helper may not cover the year
        pass
    days[qingming] = "清明节"
    days[date(year, 5, 1)] = "劳动节"
    days[date(year, 5, 2)] = "劳动节"
    days[_lunar_to_solar(LunarDate, year, 5, 5)] = "端午节"
    days[_lunar_to_solar(LunarDate, year, 8, 15)] = "中秋节"
    for d in (1, 2, 3):
        days[date(year, 10, d)] = "国庆节"
    return days


def _lunar_to_solar(cls, year: int, month: int, day: int) -> date:  # type: ignore[no-untyped-def]
    lunar = cls(year, month, day)
    convert = getattr(lunar, "to_solar_date", None) or lunar.toSolarDate
    return convert()


_warned_years: set[int] = set()


class WorkCalendar:
    """Working-day arithmetic with overrides consulted first."""

    def __init__(
        self,
        overrides: Mapping[date, str] | None = None,
        *,
        official: OfficialHolidays | None = None,
    ) -> None:
        self.overrides = dict(overrides or {})
        self.official = official if official is not None else OFFICIAL
        # Each date is looked up once per calendar: a reminder sweep asks about the same
        # few hundred dates for every one of up to ~100,000 items.
        self._days: dict[date, DayInfo] = {}

    def day(self, d: date) -> DayInfo:
        info = self._days.get(d)
        if info is None:
            info = self._days[d] = self._lookup(d)
        return info

    def _lookup(self, d: date) -> DayInfo:
        kind = self.overrides.get(d)
        if kind is not None:
            return DayInfo(kind == WORKDAY, False, "override")
        try:
            workday = self.official.is_workday(d)
        except NotImplementedError:
            if d.year not in _warned_years:
                _warned_years.add(d.year)
                logger.warning(
                    "No holiday data for %s: dates are "
                    "provisional; import the State Council notice with "
                    "'zwgk calendar holidays import'.",
                    d.year,
                )
            name = estimated_holidays(d.year).get(d, "")
            return DayInfo(d.weekday() < 5 and not name, True, "estimate", name)
        return DayInfo(workday, False, "official")

    def is_workday(self, d: date) -> bool:
        return self.day(d).workday

    def add_workdays(self, start: date, n: int) -> CalendarResult:
        """The date ``n`` working days after ``start`` (before it for negative ``n``).

        ``start`` itself never counts; with ``n == 0`` the answer is ``start``.
        """
        step = 1 if n >= 0 else -1
        remaining = abs(n)
        d = start
        provisional = False
        while remaining:
            d += timedelta(days=step)
            info = self.day(d)
            provisional = provisional or info.provisional
            if info.workday:
                remaining -= 1
        return CalendarResult(d, provisional)

    def workdays_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; negative when end is before start."""
        if end == start:
            return 0
        sign = 1 if end > start else -1
        lo, hi = (start, end) if sign > 0 else (end, start)
        count = 0
        d = lo
        while d < hi:
            d += timedelta(days=1)
            if self.is_workday(d):
                count += 1
        return sign * count

    def is_provisional(self, d: date) -> bool:
        return self.day(d).provisional

    def next_workday(self, d: date) -> CalendarResult:
        """``d`` itself if it is a working day, else the next one."""
        info = self.day(d)
        if info.workday:
            return CalendarResult(d, info.provisional)
        return self.add_workdays(d, 1)


def load_calendar(session=None) -> WorkCalendar:  # type: ignore[no-untyped-def]
    """A calendar with the overrides stored in the app database."""

    def _load(s) -> WorkCalendar:  # type: ignore[no-untyped-def]
        rows = s.exec(select(HolidayOverride)).all()
        return WorkCalendar({r.day: r.kind for r in rows})

    if session is not None:
        return _load(session)
    with session_scope() as s:
        return _load(s)
