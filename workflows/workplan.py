"""The ``work-plan`` obligation: checklist items from the imported plan's tasks.

One item per task × unit that must do it (leads and responsible) or cooperates, with the
parsed deadline (or the administrator's, ``zwgk plan move-due``). Year-round (全年) and
quarterly (每季度) tasks get a progress check at the end of each quarter of the plan year
that ends at least ``MIN_LEAD_WORKDAYS`` (10) working days after the plan's issue date (a
plan issued on 30 March: 30 June first; on 20 June: 30 September); monthly (每月) tasks one
per month end from the same day on. When no quarter (month) end of the plan year is that
late (a plan issued in late December), the one checkpoint left is due 10 working days after
the issue date.
Tasks with no date yet (imported with ``--lenient``) and tasks nobody is assigned to
(相关单位) get no item until the administrator fills them in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from models.checklist import Role
from models.plan import Plan, PlanTask
from models.unit import Unit
from workflows.engine import PLANNER_MEMO, PlannedItem
from workflows.obligation import Due
from workflows.workcal import MIN_LEAD_WORKDAYS, WorkCalendar
from zwgk.config import Settings
from zwgk.errors import UserError
from zwgk.periods import QUARTER_NUMERALS, Cadence, Period, month_end


def _checkpoints(task: PlanTask, plan: Plan, earliest: date) -> list[tuple[str, str, Due]]:
    """(step suffix, title suffix, due) for each occurrence of the task in the plan year;
    ``earliest`` is the first day a checkpoint may fall on (see the module docstring)."""
    year = plan.year
    if task.recurrence in ("year-round", "quarterly"):
        quarters = [q for q in range(1, 5) if month_end(year, 3 * q) >= earliest]
        if not quarters:
            return [("-q4", "（第四季度进展）", Due(earliest))]
        return [
            (f"-q{q}", f"（第{QUARTER_NUMERALS[q - 1]}季度进展）", Due(month_end(year, 3 * q)))
            for q in quarters
        ]
    if task.recurrence == "monthly":
        months = [m for m in range(1, 13) if month_end(year, m) >= earliest]
        if not months:
            return [("-m12", "（12月）", Due(earliest))]
        return [(f"-m{m:02d}", f"（{m}月）", Due(month_end(year, m))) for m in months]
    due = task.moved_due or task.due
    if due is None:
        return []
    return [("", "", Due(due, task.window_start if task.moved_due is None else None))]


@dataclass(frozen=True)
class _TaskPlan:
    """One task as the planner needs it: who does it in which role, and its checkpoints."""

    roles: dict[str, Role]  # unit name -> role
    detail: str
    checkpoints: list[tuple[str, str, Due]]  # (step, step title, due)


def plan_work_plan(
    *, session: Session, period: Period, units: list[Unit], cal: WorkCalendar, settings: Settings
) -> list[PlannedItem]:
    if not units:
        return []
    tasks = _task_plans(session, units[0].district, period, cal)
    planned: list[PlannedItem] = []
    for task in tasks:
        assigned = [(u, role) for u in units if (role := task.roles.get(u.name)) is not None]
        for step, step_title, due in task.checkpoints:
            planned += [
                PlannedItem(unit, step, step_title, role, due, task.detail)
                for unit, role in assigned
            ]
    return planned


def _task_plans(
    session: Session, district: str, period: Period, cal: WorkCalendar
) -> list[_TaskPlan]:
    """The plan's tasks in order, each read once per build: ``build_checklist`` plans a large
    district a chunk of units at a time, and a task of 各单位 names every unit (re-reading
    and re-resolving it per chunk grew with the square of the district's size)."""
    memo = session.info.get(PLANNER_MEMO)
    key = ("work-plan", district, period.year)
    if memo is not None and key in memo:
        return memo[key]  # type: ignore[no-any-return]
    plan = session.exec(
        select(Plan).where(Plan.district == district, Plan.year == period.year)
    ).first()
    if plan is None:
        raise UserError(
            f"尚未导入{district} {period.year} 年的政务公开工作要点：请先运行 "
            f"zwgk plan import FILE --district {district} --year {period.year} --issued YYYY-MM-DD"
        )
    tasks = session.exec(
        select(PlanTask)
        .where(PlanTask.plan_id == plan.id, PlanTask.retired == False)  # noqa: E712
        .execution_options(yield_per=20)
    )
    earliest = cal.add_workdays(plan.issued, MIN_LEAD_WORKDAYS).date
    # Tasks naming the same units share one roles map: a task of 各单位 lists every unit
    # of the district, and a 100-task plan of them would otherwise keep 100 copies.
    shared: dict[tuple[tuple[str, ...], ...], dict[str, Role]] = {}
    ordered = []
    for task in tasks:  # streamed: each task's lists of names are let go once resolved
        names = (tuple(task.cooperating_units), tuple(task.units), tuple(task.lead_units))
        roles = shared.get(names)
        if roles is None:
            roles = shared[names] = {}
            for name in names[0]:
                roles[name] = Role.cooperating
            for name in names[1]:
                roles[name] = Role.responsible
            for name in names[2]:
                roles[name] = Role.lead
        checkpoints = [
            (f"task-{task.id}{suffix}", f"第{task.seq}项 {task.name}{title_suffix}", due)
            for suffix, title_suffix, due in _checkpoints(task, plan, earliest)
        ]
        ordered.append(
            ((_seq_key(task.seq), task.sub), _TaskPlan(roles, _detail(task), checkpoints))
        )
    ordered.sort(key=lambda e: e[0])
    out = [t for _, t in ordered]
    if memo is not None:
        memo[key] = out
    return out


def _detail(task: PlanTask) -> str:
    parts = []
    if task.content:
        content = task.content.replace("\n", "")
        parts.append(content if len(content) <= 120 else content[:118] + "……")
    if task.lead_units:
        parts.append(f"牵头单位：{'、'.join(task.lead_units)}")
    if task.cooperating_units:
        parts.append(f"配合单位：{'、'.join(task.cooperating_units)}")
    parts.append(f"时间节点：{task.deadline_text.replace(chr(10), '')}")
    return "；".join(parts)


def _seq_key(seq: str) -> tuple[int, str]:
    digits = "".join(ch for ch in seq if ch.isdigit())
    return (int(digits) if digits else 10**6, seq)


def year_of(today: date) -> Period:
    return Period(Cadence.yearly, today.year)
