"""A year's work plan (政务公开工作要点) and its tasks (任务分解表)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from zwgk.clock import utcnow


class Plan(SQLModel, table=True):
    """One district's plan for one year (工作要点), as last imported."""

    __table_args__ = (UniqueConstraint("district", "year", name="uq_plan_district_year"),)

    id: int | None = Field(default=None, primary_key=True)
    district: str = Field(index=True)
    year: int
    issued: date  # 印发日期: "本文印发30日内" counts from here
    source: str  # file name of the last import
    imported_at: datetime = Field(default_factory=utcnow)
    revision: int = 1


class PlanTask(SQLModel, table=True):
    """One row of the task table, with its parsed due rule and responsible units."""

    # (plan_id, seq, sub) is unique among *active* tasks; the importer keeps it so (a
    # retired task may share its number with the corrected row that replaced it).

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    seq: str  # 序号 as written
    sub: int = 0  # 2nd, 3rd… row under the same 序号 (Baoshan's multi-row points)
    name: str
    category: str = ""
    content: str = Field(default="", sa_type=Text)
    units_text: str = ""
    deadline_text: str = ""
    due: date | None = None
    # The administrator's due date (zwgk plan move-due): it wins over ``due`` until a
    # re-import changes the task's 时间节点 cell.
    moved_due: date | None = None
    window_start: date | None = None
    recurrence: str = "once"  # once | year-round | quarterly | monthly
    lead_units: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    units: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    cooperating_units: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    warnings: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    retired: bool = False  # removed by a later import; history kept
    retired_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)
