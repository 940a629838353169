"""The administrator's answer to a task overdue at issue (印发时已逾期): confirm or move it.

``move_due`` sets a one-off task's due date (``PlanTask.moved_due``, which the work-plan
planner and later imports respect) and moves its pending checklist items with it, recording
an ``ItemEvent`` ("move-due") on each. Moving to the date the task already has confirms it.
Done and waived items keep their dates: what was done on time stays on time.

A task is named as the administrator sees it:

* ``12`` — its 序号 in the plan (the import's warnings say "（序号 12）");
* ``12/2`` — the 2nd row under 序号 12 where one number has several rows (宝山区's points);
* ``task-34`` — its id, as ``zwgk status`` shows it in the step column (``task-34-q2`` is a
  checkpoint of task 34).

``overdue_at_issue`` tells which work-plan items were already past due when the plan was
issued (their due date lies before the plan's issue date), for status to mark.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from models.checklist import ChecklistItem, ItemStatus
from models.plan import Plan, PlanTask
from models.reminder import ItemEvent
from models.unit import Unit
from workflows.workcal import WorkCalendar
from zwgk.clock import utcnow
from zwgk.errors import UserError
from zwgk.intake.plan.deadlines import cn_date

__all__ = ["MoveResult", "find_task", "move_due", "overdue_at_issue"]

WORK_PLAN = "work-plan"
_REF_RE = re.compile(r"^(?:task-(?P<id>\d+)|(?P<seq>[^/]+?)(?:/(?P<row>\d+))?)$")
_RECURRENCE_LABELS = {
    "year-round": "全年任务（按季度检查进展）",
    "quarterly": "每季度任务",
    "monthly": "每月任务",
}


@dataclass
class MoveResult:
    plan: Plan
    task: PlanTask
    old_due: date | None
    new_due: date
    moved: int  # pending items whose due date changed
    kept: int  # done or waived items left as they were

    @property
    def confirmed(self) -> bool:
        return self.old_due == self.new_due


def _plan(*, session: Session, district: str, year: int | None) -> Plan:
    stmt = select(Plan).where(Plan.district == district)
    if year is not None:
        stmt = stmt.where(Plan.year == year)
    plan = session.exec(stmt.order_by(col(Plan.year).desc())).first()
    if plan is None:
        which = f"{year}年" if year is not None else ""
        raise UserError(f"尚未导入{district}{which}的政务公开工作要点：请先 zwgk plan import")
    return plan


def find_task(
    *, session: Session, district: str, year: int | None, ref: str
) -> tuple[Plan, PlanTask]:
    """The plan (of ``year``, else the district's latest) and its task named by ``ref``."""
    plan = _plan(session=session, district=district, year=year)
    where = f"{district}{plan.year}年工作要点"
    m = _REF_RE.match(ref.strip())
    if not ref.strip() or m is None:
        raise UserError(f"任务「{ref}」无效：应为序号（如 12）、序号/行（如 24/2）或 task-编号")
    tasks = list(session.exec(select(PlanTask).where(PlanTask.plan_id == plan.id)))
    if m.group("id"):
        found = [t for t in tasks if t.id == int(m.group("id"))]
        if not found:
            raise UserError(f"{where}中没有任务 task-{m.group('id')}（见 zwgk status 的事项列）")
        task = found[0]
    else:
        seq = m.group("seq").strip()
        rows = sorted((t for t in tasks if t.seq == seq and not t.retired), key=lambda t: t.sub)
        if not rows:
            raise UserError(
                f"{where}中没有序号为「{seq}」的任务（序号见导入时的提示，或用 task-编号）"
            )
        if m.group("row"):
            n = int(m.group("row"))
            if not 1 <= n <= len(rows):
                raise UserError(f"{where}序号「{seq}」下只有 {len(rows)} 行任务，没有第 {n} 行")
            task = rows[n - 1]
        elif len(rows) > 1:
            choices = "、".join(f"{seq}/{i}（task-{t.id}）" for i, t in enumerate(rows, 1))
            raise UserError(f"{where}序号「{seq}」下有 {len(rows)} 行任务，请指明哪一行：{choices}")
        else:
            task = rows[0]
    if task.retired:
        raise UserError(f"{where}第{task.seq}项「{task.name}」已在重新导入时撤销，无需调整")
    return plan, task


def move_due(
    *,
    session: Session,
    district: str,
    year: int | None,
    ref: str,
    new_due: date,
    cal: WorkCalendar,
    by: str = "政务公开办",
    reason: str = "",
) -> MoveResult:
    """Set the task's due date and move its pending work-plan items; the caller commits."""
    plan, task = find_task(session=session, district=district, year=year, ref=ref)
    if task.recurrence in _RECURRENCE_LABELS:
        raise UserError(
            f"第{task.seq}项「{task.name}」是{_RECURRENCE_LABELS[task.recurrence]}，"
            "没有单一的截止日期，不能调整"
        )
    old_due = task.moved_due or task.due
    task.moved_due = new_due
    task.updated_at = utcnow()
    session.add(task)
    unit_ids = list(session.exec(select(Unit.id).where(Unit.district == district)))
    items = session.exec(
        select(ChecklistItem)
        .where(ChecklistItem.obligation == WORK_PLAN)
        .where(ChecklistItem.period == str(plan.year))
        .where(ChecklistItem.step == f"task-{task.id}")
        .where(col(ChecklistItem.unit_id).in_(unit_ids))
    ).all()
    note = (
        f"截止日期确认为{cn_date(new_due)}"
        if old_due == new_due
        else f"截止日期由{cn_date(old_due) if old_due else '（未填）'}调整为{cn_date(new_due)}"
    ) + (f"：{reason.strip()}" if reason.strip() else "")
    moved = kept = 0
    for item in items:
        if item.status != ItemStatus.pending:
            kept += 1
            continue
        moved += 1
        item.due, item.window_start = new_due, None
        item.provisional = cal.is_provisional(new_due)
        session.add(item)
        session.add(ItemEvent(item_id=item.id, action="move-due", by=by, reason=note))  # type: ignore[arg-type]
    return MoveResult(plan, task, old_due, new_due, moved, kept)


def overdue_at_issue(*, session: Session, rows: Iterable[tuple[ChecklistItem, Unit]]) -> set[int]:
    """Ids of the work-plan items among ``rows`` due before their plan's issue date."""
    issued: dict[tuple[str, str], date | None] = {}
    out: set[int] = set()
    for item, unit in rows:
        if item.obligation != WORK_PLAN or not item.period.isdigit():
            continue
        key = (unit.district, item.period)
        if key not in issued:
            issued[key] = session.exec(
                select(col(Plan.issued)).where(
                    Plan.district == unit.district, Plan.year == int(item.period)
                )
            ).first()
        day = issued[key]
        if day is not None and item.due < day and item.id is not None:
            out.add(item.id)
    return out
