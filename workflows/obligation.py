"""How an obligation is declared: steps, who does them in which role, and when they are due.

An :class:`Obligation` is declared once (see ``workflows/registry.py``); its Prefect flow,
its deployment in ``prefect.yaml`` and its ``zwgk run`` entry all follow from it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Protocol

from models.checklist import Role
from models.unit import UnitKind
from workflows.workcal import WorkCalendar
from zwgk.config import Settings
from zwgk.periods import Cadence, Period, month_end

# --------------------------------------------------------------------------- due rules


@dataclass(frozen=True)
class Due:
    """A computed deadline: plain date in Asia/Shanghai, optional window start."""

    due: date
    window_start: date | None = None
    provisional: bool = False


class DueRule(Protocol):
    """Computes a step's deadline for a period."""

    def __call__(self, period: Period, cal: WorkCalendar, settings: Settings) -> Due: ...

    def describe(self) -> str: ...


@dataclass(frozen=True)
class DayOfMonth:
    """Day ``day`` of the period's month (每月 N 日), e.g. 新增非密公文每月 25 日全量备案."""

    day: int

    def __call__(self, period: Period, cal: WorkCalendar, settings: Settings) -> Due:
        end = month_end(period.year, period.start.month)
        d = min(self.day, end.day)
        return Due(date(period.year, period.start.month, d))

    def describe(self) -> str:
        return f"每月{self.day}日"


@dataclass(frozen=True)
class FixedDate:
    """A month-day in the period's year, or the next one (``year_offset=1``).

    ``setting`` names a ``Settings`` field holding ``MM-DD`` that overrides the default.
    """

    month: int
    day: int
    year_offset: int = 0
    setting: str | None = None

    def month_day(self, settings: Settings) -> tuple[int, int]:
        if self.setting:
            m, d = (int(x) for x in getattr(settings, self.setting).split("-"))
            return m, d
        return self.month, self.day

    def __call__(self, period: Period, cal: WorkCalendar, settings: Settings) -> Due:
        m, d = self.month_day(settings)
        return Due(date(period.year + self.year_offset, m, d))

    def describe(self) -> str:
        when = "次年" if self.year_offset == 1 else ""
        return f"{when}{self.month}月{self.day}日前"


@dataclass(frozen=True)
class MonthWindow:
    """The whole of month ``month`` (e.g. 8月 for 政府开放月): window start 1st, due month end."""

    month: int
    year_offset: int = 0

    def __call__(self, period: Period, cal: WorkCalendar, settings: Settings) -> Due:
        y = period.year + self.year_offset
        return Due(month_end(y, self.month), window_start=date(y, self.month, 1))

    def describe(self) -> str:
        return f"{self.month}月内"


@dataclass(frozen=True)
class WorkdaysAfterPeriodEnd:
    """``n`` working days after the period's last day (e.g. 季度结束后 5 个工作日内)."""

    n: int

    def __call__(self, period: Period, cal: WorkCalendar, settings: Settings) -> Due:
        r = cal.add_workdays(period.end, self.n)
        return Due(r.date, provisional=r.provisional)

    def describe(self) -> str:
        return f"期末后{self.n}个工作日内"


# --------------------------------------------------------------------------- reminders


@dataclass(frozen=True)
class Rung:
    """One rung of the reminder ladder (催办梯度), in working days relative to the due date.

    ``offset`` < 0: before the deadline; 0: on the due day; > 0: overdue. ``escalate``
    marks the unit's digest as an escalation (逾期催办); the office and the lead units hear of
    it through their daily overdue summaries (逾期汇总), never as copies.
    """

    slug: str
    offset: int
    title: str
    escalate: bool = False


@dataclass(frozen=True)
class Ladder:
    """Fixed rungs, then a weekly chase (every ``weekly_days`` calendar days) until done."""

    rungs: tuple[Rung, ...]
    weekly_days: int = 7
    weekly_escalate: bool = True

    def describe(self) -> str:
        parts = [r.title for r in self.rungs]
        if self.weekly_days:
            parts.append(f"此后每{self.weekly_days}天催办一次")
        return "；".join(parts)


DEFAULT_LADDER = Ladder(
    rungs=(
        Rung("before-5", -5, "截止前5个工作日提醒"),
        Rung("before-1", -1, "截止前1个工作日提醒"),
        Rung("due", 0, "截止当日提醒"),
        Rung("overdue-1", 1, "逾期1个工作日催办"),
        Rung("overdue-3", 3, "逾期3个工作日催办（列入逾期汇总）", escalate=True),
    ),
)


# --------------------------------------------------------------------------- who


@dataclass(frozen=True)
class Assignees:
    """Which units of the directory a step applies to.

    ``kinds`` selects by kind (office / department / street / town / park); ``groups``
    adds units carrying an explicit extra group. An empty selector means every unit.
    """

    kinds: tuple[UnitKind, ...] = ()
    groups: tuple[str, ...] = ()
    label: str = "各单位"

    def matches(self, kind: str, groups: Sequence[str]) -> bool:
        if not self.kinds and not self.groups:
            return True
        return kind in self.kinds or any(g in groups for g in self.groups)


ALL_UNITS = Assignees(label="各单位")
OFFICE = Assignees(kinds=(UnitKind.office,), label="区政府办公室（政务公开办）")


@dataclass(frozen=True)
class Step:
    """One checklist step (清单步骤) of an obligation."""

    slug: str
    title: str
    due: DueRule
    who: Assignees = ALL_UNITS
    role: Role = Role.responsible
    detail: str = ""


@dataclass(frozen=True)
class Obligation:
    """A recurring 政务公开 duty, declared once."""

    slug: str
    title: str
    basis: str  # which rule of which document (依据)
    cadence: Cadence
    steps: tuple[Step, ...]
    cron: str  # schedule, always in Asia/Shanghai
    schedule_note: str
    # Which period a scheduled run (no explicit period) works on, from the run date.
    default_period: Callable[[date], Period] | None = None
    description: str = ""
    templates: str = field(default="")  # template folder; defaults to the slug
    # Items computed from the database instead of ``steps`` (the imported work plan):
    # planner(session=, period=, units=, cal=, settings=) -> list[PlannedItem]
    planner: Callable[..., list[Any]] | None = None
    ladder: Ladder = DEFAULT_LADDER
    # Files for a unit's assignment mail:
    # attachments(session=, unit=, period=) -> list[(filename, bytes, mime type)]
    attachments: Callable[..., list[tuple[str, bytes, str]]] | None = None
    # A unit's completion waits for the office's review (待审核 → 通过 / 退回):
    review: bool = False
    # A unit may declare there is nothing to do this period (本期无), with a reason:
    allow_nil: bool = False

    @property
    def template_dir(self) -> str:
        return self.templates or self.slug

    @property
    def flow_name(self) -> str:
        return self.slug

    @property
    def func_name(self) -> str:
        return self.slug.replace("-", "_")

    def period_for(self, today: date) -> Period:
        if self.default_period is not None:
            return self.default_period(today)
        return Period.containing(today, self.cadence)

    def parse_period(self, text: str) -> Period:
        return Period.parse(text, self.cadence)


# Period rules (``Obligation.default_period``): which period a scheduled run on ``today``
# works on when that is not the period containing ``today``.


def previous_year(today: date) -> Period:
    """The year before ``today``'s (a run on 2 January 2027 builds 2026)."""
    return Period(Cadence.yearly, today.year - 1)


def previous_quarter(today: date) -> Period:
    """The quarter just ended: a run on 1 April builds Q1; on 1 January, the fourth quarter
    of the year before; any day of a quarter gives the quarter before it."""
    return Period.containing(today, Cadence.quarterly).previous()


def previous_month(today: date) -> Period:
    """The month just ended: a run on 1 March builds February; on 1 January, December of
    the year before."""
    return Period.containing(today, Cadence.monthly).previous()


def next_month(today: date) -> Period:
    """The month after ``today``'s: a run on 25 December builds January of the next year."""
    first_next = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    return Period(Cadence.monthly, first_next.year, first_next.month)
