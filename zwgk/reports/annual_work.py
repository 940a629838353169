"""The year's work as the annual report's sections 五 and 六 state it, read from the checklist.

* :class:`YearWork` — for the units a report covers (one unit, or a district's): the items due
  in the year that were done late or are still not done (by obligation and by unit), the
  submissions the office returned (退回) in the year with their reasons, and how the work
  plan's tasks (工作要点任务) stand by plan section: done (on time / late), open.
* :func:`problems_section` / :func:`other_matters_section` — sections 五 and 六 drafted from
  it in the office's words, as (kind, text) pairs like section 一 (``"h"`` a sub-heading,
  ``"p"`` a paragraph); what the data cannot know stays a 【待填写：…】 marker.

Obligation titles come from the caller (``workflows.registry.item_titles``): reports sit
below workflows and do not import the registry.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlmodel import Session, col, select

from models.checklist import ChecklistItem, ItemStatus
from models.plan import Plan, PlanTask
from models.submission import ReviewState, Submission
from models.unit import Unit
from zwgk.reports.assessment import AWAITING, ITEMS, join_awaiting

WORK_PLAN = "work-plan"
PLACEHOLDER = "【待填写：{}】"
ORDINALS = "一二三四五六七八九十"


@dataclass
class ObligationLate:
    """Items of one obligation due in the year: done late, and past due still not done."""

    title: str
    late: int = 0
    open: int = 0  # awaiting review (待审核) included: not done until 通过

    @property
    def total(self) -> int:
        return self.late + self.open


@dataclass
class SectionTasks:
    """The plan's tasks of one section (工作要点的一个方面) as they stand."""

    name: str
    total: int = 0
    on_time: int = 0
    late: int = 0
    open: list[str] = field(default_factory=list)  # "第3项 …" of the tasks not done

    @property
    def done(self) -> int:
        return self.on_time + self.late


@dataclass
class YearWork:
    year: int
    as_of: date
    due: int = 0  # items due in the year (not waived)
    late: list[ObligationLate] = field(default_factory=list)  # most first
    late_units: list[tuple[str, int]] = field(default_factory=list)  # unit, items; most first
    returned: int = 0
    returned_by_obligation: list[tuple[str, int]] = field(default_factory=list)
    return_reasons: list[str] = field(default_factory=list)  # distinct, most frequent first
    plan_title: str | None = None  # None: no plan imported for the year
    awaiting: int = 0  # of the past-due items not done, those handed in awaiting review
    sections: list[SectionTasks] = field(default_factory=list)

    @property
    def late_done(self) -> int:
        return sum(o.late for o in self.late)

    @property
    def still_open(self) -> int:
        return sum(o.open for o in self.late)


def year_work(
    *,
    session: Session,
    units: list[Unit],
    year: int,
    district: str,
    titles: Mapping[str, str],
    today: date,
) -> YearWork:
    """What the checklist says about ``units``' work in ``year``, as of ``today`` (an item
    due in the year and still pending, or handed in and awaiting review (待审核), counts as
    not done once its due date has passed, as the 通报 counts it)."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    ids = [u.id for u in units]
    names = {u.id: u.name for u in units}
    work = YearWork(year, today)
    late: dict[str, ObligationLate] = {}
    per_unit: Counter[str] = Counter()
    # One expression object in SELECT and GROUP BY: PostgreSQL matches a grouped expression
    # only when it is the same bind, not two binds of the same date.
    past = col(ChecklistItem.due) < today
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        rows = session.exec(
            join_awaiting(
                select(  # type: ignore[call-overload]
                    ChecklistItem.obligation,
                    ChecklistItem.unit_id,
                    ChecklistItem.status,
                    ChecklistItem.on_time,
                    past,
                    AWAITING,
                    ITEMS,
                )
            )
            .where(col(ChecklistItem.unit_id).in_(chunk))
            .where(col(ChecklistItem.due) >= start, col(ChecklistItem.due) <= end)
            .where(ChecklistItem.status != ItemStatus.waived)
            .group_by(
                col(ChecklistItem.obligation),
                col(ChecklistItem.unit_id),
                col(ChecklistItem.status),
                col(ChecklistItem.on_time),
                past,
                AWAITING,
            )
        ).all()
        for obligation, unit_id, status, on_time, past_due, awaiting, n in rows:
            work.due += n
            done = status == ItemStatus.done and not awaiting
            is_late = done and on_time is False
            is_open = not done and bool(past_due)
            if not (is_late or is_open):
                continue
            entry = late.setdefault(obligation, ObligationLate(titles.get(obligation, obligation)))
            if is_late:
                entry.late += n
            else:
                entry.open += n
                work.awaiting += n if awaiting else 0
            per_unit[names[unit_id]] += n
    work.late = sorted(late.values(), key=lambda o: (-o.total, o.title))
    work.late_units = sorted(per_unit.items(), key=lambda e: (-e[1], e[0]))

    first = datetime(year, 1, 1, tzinfo=UTC)
    after = datetime(year + 1, 1, 1, tzinfo=UTC)
    by_obligation: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    for i in range(0, len(ids), 500):
        for obligation, reason in session.exec(
            select(ChecklistItem.obligation, Submission.return_reason)
            .join(ChecklistItem, col(ChecklistItem.id) == col(Submission.item_id))
            .where(col(Submission.unit_id).in_(ids[i : i + 500]))
            .where(Submission.review == ReviewState.returned)
            .where(col(Submission.reviewed_at) >= first, col(Submission.reviewed_at) < after)
        ):
            work.returned += 1
            by_obligation[titles.get(obligation, obligation)] += 1
            if reason and reason.strip():
                reasons[reason.strip().rstrip("。；;.")] += 1
    work.returned_by_obligation = sorted(by_obligation.items(), key=lambda e: (-e[1], e[0]))
    work.return_reasons = [r for r, _ in sorted(reasons.items(), key=lambda e: (-e[1], e[0]))]

    _plan_progress(session, work, ids, district, today)
    return work


def _plan_progress(
    session: Session, work: YearWork, ids: list[int | None], district: str, today: date
) -> None:
    """Each plan task's standing for the units in scope, summed by plan section: done when
    every item of it is done (late if any was late), open while any is pending or awaiting
    review (待审核)."""
    plan = session.exec(
        select(Plan).where(Plan.district == district, Plan.year == work.year)
    ).first()
    if plan is None:
        return
    work.plan_title = f"{district}{work.year}年政务公开工作要点"
    tasks: dict[int | None, PlanTask] = {
        t.id: t
        for t in session.exec(
            select(PlanTask).where(PlanTask.plan_id == plan.id, PlanTask.retired == False)  # noqa: E712
        )
    }
    state: dict[int | None, list[tuple[str, bool | None]]] = defaultdict(list)
    for i in range(0, len(ids), 500):
        for step, status, on_time, awaiting in session.exec(
            join_awaiting(
                select(ChecklistItem.step, ChecklistItem.status, ChecklistItem.on_time, AWAITING)
            )
            .where(ChecklistItem.obligation == WORK_PLAN, ChecklistItem.period == str(work.year))
            .where(col(ChecklistItem.unit_id).in_(ids[i : i + 500]))
        ):
            task_id = _task_id(step)
            if task_id in tasks:
                state[task_id].append((ItemStatus.pending if awaiting else status, on_time))
    sections: dict[str, SectionTasks] = {}
    for task_id, task in sorted(tasks.items(), key=lambda e: _seq_key(e[1].seq, e[1].sub)):
        items = state.get(task_id)
        if not items:
            continue  # nobody in scope has this task
        name = task.category.strip() or "其他"
        s = sections.setdefault(name, SectionTasks(name))
        s.total += 1
        live = [(st, ot) for st, ot in items if st != ItemStatus.waived]
        if any(st == ItemStatus.pending for st, _ in live):
            s.open.append(f"第{task.seq}项{task.name}")
        elif any(ot is False for _, ot in live):
            s.late += 1
        else:
            s.on_time += 1
    work.sections = list(sections.values())


def _task_id(step: str) -> int | None:
    """``task-12`` / ``task-12-q3`` / ``task-12-m05`` → 12."""
    parts = step.split("-")
    if len(parts) >= 2 and parts[0] == "task" and parts[1].isdigit():
        return int(parts[1])
    return None


def _seq_key(seq: str, sub: int) -> tuple[int, str, int]:
    digits = "".join(ch for ch in seq if ch.isdigit())
    return (int(digits) if digits else 10**6, seq, sub)


def _quoted(names: list[str], limit: int = 3) -> str:
    shown = "、".join(f"“{n}”" for n in names[:limit])
    return shown + ("等" if len(names) > limit else "")


def _cn_day(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def problems_section(work: YearWork, *, district_wide: bool) -> list[tuple[str, str]]:
    """Section 五 (存在的主要问题及改进情况): the problems the data shows, the measures that
    answer them, and markers for what only the office knows."""
    todo = PLACEHOLDER.format
    who = "全区" if district_wide else "本机关"
    y = work.year
    problems: list[str] = []
    measures: list[str] = []
    if work.late:
        parts = []
        if work.late_done:
            parts.append(f"逾期完成{work.late_done}项")
        if work.still_open:
            parts.append(
                f"截至{_cn_day(work.as_of)}仍未完成{work.still_open}项"
                + (f"（其中已报送待审核{work.awaiting}项）" if work.awaiting else "")
            )
        where = "、".join(f"“{o.title}”（{o.total}项）" for o in work.late[:3])
        text = (
            f"部分政务公开重点工作未能按时完成。{y}年，{who}应完成的政务公开重点工作事项共"
            f"{work.due}项，其中{'、'.join(parts)}，主要集中在{where}"
            f"{'等方面' if len(work.late) > 3 else ''}"
        )
        if district_wide and work.late_units:
            units = "、".join(name for name, _ in work.late_units[:5])
            more = f"等{len(work.late_units)}个单位" if len(work.late_units) > 5 else ""
            text += f"，涉及{units}{more}"
        problems.append(text + "。")
        measures.append(
            "强化工作统筹和督促落实。对照年度政务公开工作要点建立任务台账，"
            "对临近截止日期的事项提前提醒，对逾期事项及时督办、限期整改，"
            "并将完成情况纳入年度政务公开考核。"
        )
    if work.returned:
        where = "、".join(f"“{t}”（{n}次）" for t, n in work.returned_by_obligation[:3])
        text = (
            f"部分报送材料质量有待提高。{y}年，{who}报送的材料经审核退回修改{work.returned}次，"
            f"主要涉及{where}"
        )
        if work.return_reasons:
            text += f"，退回原因主要有{_quoted(work.return_reasons)}"
        problems.append(text + "。")
        measures.append(
            "加强业务培训和审核把关。针对审核中发现的问题开展专题培训和个别指导，"
            "完善报送前的自查和审核流程，提高报送材料的规范性和准确性。"
        )
    out: list[tuple[str, str]] = [("h", "（一）存在的主要问题")]
    if not problems:
        out.append(
            (
                "p",
                f"{y}年，{who}各项政务公开重点工作事项均按时完成，报送材料未出现审核退回的情况。"
                + todo("工作中仍存在的不足（如公开内容的规范性、政策解读的质量等）"),
            )
        )
    else:
        for n, text in enumerate(problems):
            out.append(("p", f"{ORDINALS[n]}是{text}"))
        out.append(("p", todo("其他需要说明的问题")))
    out.append(("h", "（二）改进情况"))
    out.append(("p", todo(f"{y - 1}年度报告所列问题的改进情况")))
    for n, text in enumerate(measures):
        out.append(("p", f"{ORDINALS[n]}是{text}"))
    out.append(("p", todo(f"{y + 1}年的其他改进措施")))
    return out


def other_matters_section(
    work: YearWork, *, district_wide: bool, fee_refusals: float
) -> list[tuple[str, str]]:
    """Section 六 (其他需要报告的事项): 工作要点落实情况 from the plan's tasks, the fixed items
    (信息处理费, 人大代表建议和政协提案办理) where the data says something, else markers.
    ``fee_refusals``: table 三's 申请人逾期未按收费通知要求缴纳费用 figure (总计)."""
    todo = PLACEHOLDER.format
    who = "全区" if district_wide else "本机关"
    y = work.year
    out: list[tuple[str, str]] = [("h", "（一）政务公开工作要点落实情况")]
    if work.plan_title is None:
        out.append(("p", todo(f"贯彻落实{y}年政务公开工作要点情况（系统中没有{y}年的工作要点）")))
    elif not work.sections:
        out.append(
            ("p", f"{y}年政务公开工作要点中没有{who}承担的任务。" + todo("工作要点落实情况"))
        )
    else:
        total = sum(s.total for s in work.sections)
        on_time = sum(s.on_time for s in work.sections)
        late = sum(s.late for s in work.sections)
        open_ = sum(len(s.open) for s in work.sections)
        text = (
            f"{who}对照《{work.plan_title}》逐项抓好落实，{y}年共承担工作要点任务{total}项，"
            f"已完成{on_time + late}项"
        )
        if late:
            text += f"（其中按时完成{on_time}项、逾期完成{late}项）"
        text += f"，截至{_cn_day(work.as_of)}尚未完成{open_}项。" if open_ else "，全部完成。"
        if len(work.sections) > 1:
            text += (
                "分方面看，"
                + "；".join(f"{s.name}方面{s.total}项，完成{s.done}项" for s in work.sections)
                + "。"
            )
        out.append(("p", text))
        pending = [t for s in work.sections for t in s.open]
        if pending:
            out.append(
                (
                    "p",
                    f"尚未完成的任务为：{'；'.join(pending[:10])}"
                    f"{f'等{len(pending)}项' if len(pending) > 10 else ''}。"
                    + todo("未完成的原因及下一步安排"),
                )
            )
    out.append(("h", "（二）收取信息处理费情况"))
    fee = (
        f"{y}年，{who}有{int(fee_refusals)}件政府信息公开申请因申请人逾期未按收费通知要求缴纳"
        "费用而不再处理。"
        if fee_refusals
        else ""
    )
    out.append(
        (
            "p",
            fee
            + todo(
                "依据《政府信息公开信息处理费管理办法》收取信息处理费的情况"
                "（未收取的，写明“本年度未收取信息处理费”）"
            ),
        )
    )
    out.append(("h", "（三）人大代表建议和政协提案办理结果公开情况"))
    out.append(("p", todo("人大代表建议和政协提案办理结果公开情况")))
    out.append(("h", "（四）其他需要报告的事项"))
    out.append(("p", todo("其他需要报告的事项；没有的，写明“无”")))
    return out
