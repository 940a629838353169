"""Responsible units (责任单位) and their contact persons (联络员)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from zwgk.db import utcnow


class UnitKind(StrEnum):
    """Kind of unit: 区政府办公室 / 委办局 / 街道 / 镇 / 园区."""

    office = "office"
    department = "department"
    street = "street"
    town = "town"
    park = "park"


KIND_LABELS = {
    UnitKind.office: "区政府办公室",
    UnitKind.department: "区政府部门",
    UnitKind.street: "街道",
    UnitKind.town: "镇",
    UnitKind.park: "园区",
}


class UnitBase(SQLModel):
    district: str = Field(index=True)
    name: str
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    kind: UnitKind
    email: str
    contact: str = ""
    groups: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class Unit(UnitBase, table=True):
    """Responsible unit (责任单位) with its contact (政务公开联络员) mailbox."""

    __table_args__ = (UniqueConstraint("district", "name", name="uq_unit_district_name"),)

    id: int | None = Field(default=None, primary_key=True)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
