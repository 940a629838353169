"""Reminder ladders (催办梯度) on the calendar: which rung an item has reached on a day.

A rung's date is ``due`` moved by its offset in working days; the weekly chase follows the last
fixed rung every ``weekly_days`` calendar days (see :mod:`workflows.reminders` for the rules).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from workflows.obligation import Ladder
from workflows.workcal import WorkCalendar


@dataclass(frozen=True)
class Reached:
    rung: str
    order: int  # position on the ladder (weekly-N after every fixed rung)
    on: date
    title: str
    escalate: bool


class LadderDates:
    """Rung dates per due date, computed once per sweep (many items share a due date)."""

    def __init__(self, cal: WorkCalendar) -> None:
        self.cal = cal
        self._cache: dict[tuple[date, int], date] = {}

    def shift(self, due: date, offset: int) -> date:
        key = (due, offset)
        if key not in self._cache:
            if offset == 0:
                self._cache[key] = due
            else:
                self._cache[key] = self.cal.add_workdays(due, offset).date
        return self._cache[key]

    def latest(self, ladder: Ladder, due: date, today: date, after: date | None) -> Reached | None:
        """The latest rung reached by ``today`` that falls after ``after`` (the assignment)."""
        best: Reached | None = None
        last_fixed: date | None = None
        for i, rung in enumerate(ladder.rungs):
            on = self.shift(due, rung.offset)
            last_fixed = on
            if on <= today and (after is None or on > after):
                best = Reached(rung.slug, i, on, rung.title, rung.escalate)
        if ladder.weekly_days and last_fixed is not None and today > last_fixed:
            n = (today - last_fixed).days // ladder.weekly_days
            on = last_fixed + timedelta(days=n * ladder.weekly_days)
            if n >= 1 and (after is None or on > after):
                best = Reached(
                    f"weekly-{n}",
                    len(ladder.rungs) + n,
                    on,
                    weekly_title(n),
                    ladder.weekly_escalate,
                )
        return best


def weekly_title(n: int) -> str:
    return f"逾期第{n}周催办"


def rung_title(ladder: Ladder, slug: str) -> str:
    """A rung as the office reads it (截止前5个工作日提醒, 逾期第2周催办); an unknown slug as
    it is."""
    for r in ladder.rungs:
        if r.slug == slug:
            return r.title
    n = slug.removeprefix("weekly-")
    return weekly_title(int(n)) if slug.startswith("weekly-") and n.isdecimal() else slug


def rung_order(ladder: Ladder, slug: str) -> int:
    for i, r in enumerate(ladder.rungs):
        if r.slug == slug:
            return i
    if slug.startswith("weekly-"):
        return len(ladder.rungs) + int(slug.split("-", 1)[1])
    return -1
