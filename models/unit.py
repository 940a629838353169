"""Responsible units (责任单位) and their contact persons (联络员)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from zwgk.clock import utcnow


class UnitKind(StrEnum):
    """The default (Shanghai) kinds of unit: 区政府办公室 / 委办局 / 街道 / 镇 / 园区.

    A district may declare kinds of its own (事业单位, 国有企业, 片区管理局, 乡…) as
    :class:`DistrictKind` rows; a unit's ``kind`` is then that kind's name.
    """

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
    kind: str  # a UnitKind value, or the name of one of the district's DistrictKind rows
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


class DistrictKind(SQLModel, table=True):
    """A kind of unit a district declares beyond the default set (e.g. 国有企业), with the
    group phrases that name all units of the kind (各区属国有企业)."""

    __table_args__ = (UniqueConstraint("district", "kind", name="uq_districtkind_district_kind"),)

    id: int | None = Field(default=None, primary_key=True)
    district: str = Field(index=True)
    kind: str  # as units CSVs write it in their kind column, e.g. "国有企业"
    label: str = ""  # shown in lists; the kind itself when empty
    groups: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
