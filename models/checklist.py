"""Checklist items: one per obligation period, responsible unit and step."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from zwgk.clock import utcnow


class Role(StrEnum):
    """Role of a unit in an obligation: 牵头 lead, 负责 responsible, 配合 cooperating."""

    lead = "lead"
    responsible = "responsible"
    cooperating = "cooperating"


ROLE_LABELS = {Role.lead: "牵头", Role.responsible: "负责", Role.cooperating: "配合"}


class ItemStatus(StrEnum):
    """Stored status. ``overdue`` is derived (pending and past due), never stored."""

    pending = "pending"
    done = "done"
    waived = "waived"


# How an item's status reads to the office and the units (the workbench, the unit's page,
# ``zwgk status``): the stored ones, and the two derived ones: ``overdue`` (pending past its
# due date) and ``awaiting`` (done by the unit, waiting for the office's review).
STATUS_LABELS = {
    "pending": "待办",
    "overdue": "已逾期",
    "done": "已完成",
    "awaiting": "待审核",
    "waived": "免办",
}


class ChecklistItem(SQLModel, table=True):
    """One thing one unit must do for one obligation period (检查清单事项)."""

    __table_args__ = (
        UniqueConstraint("obligation", "period", "unit_id", "step", name="uq_item_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    obligation: str = Field(index=True)
    period: str = Field(index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    step: str
    step_title: str
    role: Role
    due: date = Field(index=True)  # plain date in Asia/Shanghai
    window_start: date | None = None
    provisional: bool = False  # computed from an estimated calendar year
    status: ItemStatus = Field(default=ItemStatus.pending, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    assigned_on: date | None = None  # as-of date (Asia/Shanghai) of the run that created it
    completed_at: datetime | None = None
    on_time: bool | None = None
    evidence: str | None = None
    note: str | None = None
    completed_by: str | None = None
    # Event items whose clock can restart or pause (依申请公开, 条例第三十条、第三十二条):
    clock_from: date | None = None  # 补正后收到日期: the working days count from here
    excluded_workdays: int = 0  # 征求第三方意见: working days not counted
    due_basis: str | None = None  # how the due date was computed, in Chinese, for display
