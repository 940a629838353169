"""Administrator overrides of the working-day calendar (节假日/调休 overrides)."""

from __future__ import annotations

from datetime import date

from sqlmodel import Field, SQLModel


class HolidayOverride(SQLModel, table=True):
    """One date declared a holiday (放假) or a working day (调休上班) by the office."""

    day: date = Field(primary_key=True)
    kind: str  # "holiday" | "workday"
    name: str = ""
