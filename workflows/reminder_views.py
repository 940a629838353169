"""What the reminder mails show: item lines (``ItemView``), the units behind (``UnitBehind``)
and the day's overdue summary for the office or a lead unit (逾期汇总)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from models.checklist import ROLE_LABELS, ChecklistItem, Role
from models.outbox import OutboxMessage
from models.unit import Unit
from notifications.render import cn_date, cn_period, render
from workflows.workcal import WorkCalendar

# What the sweep reads of an open item (``ItemViews`` and the sweep's ``_coordinators`` take
# these rows; ``ItemViews.get`` unpacks them in this order).
ITEM_COLUMNS: tuple[Any, ...] = (
    ChecklistItem.id,
    ChecklistItem.unit_id,
    ChecklistItem.obligation,
    ChecklistItem.period,
    ChecklistItem.step,
    ChecklistItem.step_title,
    ChecklistItem.role,
    ChecklistItem.due,
    ChecklistItem.provisional,
    ChecklistItem.assigned_on,
)


@dataclass(slots=True)
class ItemView:
    """One item line of a digest or a summary (an object: see ``engine.ItemView``)."""

    id: int
    obligation_title: str
    period: str  # as stored (2026-11); ``task`` has it written out
    task: str  # 新增非密公文全量备案（2026年11月）: the obligation and its period
    step_title: str
    role_label: str
    due: date
    due_text: str  # 2026年11月25日（星期三）, with （暂定） when provisional
    when: str  # 还剩 N 个工作日 / 今日截止 / 已逾期 N 个工作日
    overdue: bool
    days_overdue: int  # working days past ``due``; 0 when not overdue
    provisional: bool


@dataclass(slots=True)
class UnitBehind:
    """One unit in an overdue summary (逾期汇总): who to call, and what is late."""

    name: str
    contact: str
    email: str
    items: list[ItemView]

    @property
    def most_days(self) -> int:
        return max(v.days_overdue for v in self.items)


class ItemViews:
    """Item lines, each built once (an overdue item shows in its unit's digest, the office's
    summary and its leads' summaries); the wording per obligation period and per due date
    once (a city summary lists thousands of items: fewer expressions per template row)."""

    def __init__(self, today: date, cal: WorkCalendar, titles: dict[str, str]) -> None:
        self.today = today
        self.cal = cal
        self.titles = titles
        self.by_id: dict[int, ItemView] = {}
        # (obligation, period, role, due, provisional) -> the fields an item line derives
        self.facts: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        self.when: dict[date, tuple[str, int]] = {}

    def get(self, item: Any) -> ItemView:
        view = self.by_id.get(item.id)
        if view is not None:
            return view
        iid, _unit, obligation, period, _step, step_title, role, due, provisional, _on = item
        key = (obligation, period, role, due, provisional)
        facts = self.facts.get(key)
        if facts is None:
            title = self.titles.get(obligation, obligation)
            when, days = self._when(due)
            facts = self.facts[key] = (
                title,
                f"{title}（{cn_period(period)}）",
                ROLE_LABELS[Role(role)],
                cn_date(due) + ("（暂定）" if provisional else ""),
                when,
                due < self.today,
                days,
            )
        title, task, role_label, due_text, when, overdue, days = facts
        view = ItemView(
            iid, title, period, task, step_title, role_label, due, due_text, when, overdue, days,
            provisional,
        )  # fmt: skip
        if overdue:  # shown again in the summaries; the others only once
            self.by_id[iid] = view
        return view

    def _when(self, due: date) -> tuple[str, int]:
        """How ``due`` stands today, and the working days overdue."""
        hit = self.when.get(due)
        if hit is None:
            left = self.cal.workdays_between(self.today, due)
            if due >= self.today:
                hit = ("今日截止" if due == self.today else f"还剩 {left} 个工作日", 0)
            else:
                hit = (f"已逾期 {-left} 个工作日" if left < 0 else "已逾期", max(-left, 0))
            self.when[due] = hit
        return hit


def behind_units(
    unit_ids: list[int], late: dict[int, list[Any]], unit_by_id: dict[int, Unit], views: ItemViews
) -> list[UnitBehind]:
    """The units behind, most overdue items first (then the longest overdue, then directory
    order); each unit's items oldest due date first."""
    out = []
    for unit_id in sorted(unit_ids):
        unit = unit_by_id[unit_id]
        items = sorted(late[unit_id], key=lambda i: (i.due, i.id))
        out.append(UnitBehind(unit.name, unit.contact, unit.email, [views.get(i) for i in items]))
    out.sort(key=lambda b: (-len(b.items), -b.most_days))
    return out


def overdue_summary(
    recipient: Unit, behind: list[UnitBehind], *, lead: bool, today: date
) -> OutboxMessage:
    """The day's overdue summary for the office (``lead=False``) or a lead unit."""
    kind = "lead-summary" if lead else "overdue-summary"
    rendered = render(
        "overdue-summary",
        "reminder",
        unit=recipient,
        units=behind,
        items=sum(len(b.items) for b in behind),
        lead=lead,
        today=today,
        subject="",
    )
    return OutboxMessage(
        key=f"{kind}:unit={recipient.id}:{today.isoformat()}",
        recipient=recipient.email,
        unit_id=recipient.id,
        obligation="reminders",
        period=today.isoformat(),
        kind=kind,
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html,
    )
