"""Data behind the annual report (政府信息公开工作年度报告)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from zwgk.clock import utcnow


class Application(SQLModel, table=True):
    """One information request (政府信息公开申请) in a unit's register (依申请公开登记)."""

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    ref: str = ""  # the unit's own number for the request, if it has one
    received: date = Field(index=True)
    applicant_type: str  # 自然人 | 商业企业 | 科研机构 | 社会公益组织 | 法律服务机构 | 其他
    outcome: str | None = None  # table 三 wording, "大类/小类"; None while pending
    replied: date | None = None
    extended: bool = False  # 延期答复 (art. 33: once, by 20 working days)
    item_id: int | None = Field(default=None, foreign_key="checklistitem.id")
    fingerprint: str = Field(index=True)  # identifies the row across re-imports
    created_at: datetime = Field(default_factory=utcnow)


class AnnualFigure(SQLModel, table=True):
    """One figure typed in by hand for a unit and year: a cell of table 二, 三 or 四."""

    __table_args__ = (
        UniqueConstraint("unit_id", "year", "table", "row", "col", name="uq_annual_figure"),
    )

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    year: int = Field(index=True)
    table: str  # table2 | table3 | table4
    row: str
    col: str
    value: float
    updated_at: datetime = Field(default_factory=utcnow)
