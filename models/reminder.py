"""What was sent about an item (催办记录) and what administrators did to it (操作记录)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from zwgk.clock import utcnow


class ReminderLog(SQLModel, table=True):
    """One rung of the reminder ladder reached by one item: sent, or skipped after a gap."""

    __table_args__ = (UniqueConstraint("item_id", "rung", name="uq_reminder_item_rung"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="checklistitem.id", index=True)
    rung: str  # before-5 | before-1 | due | overdue-1 | overdue-3 | weekly-N
    on: date  # the run date (Asia/Shanghai) that reached it
    skipped: bool = False  # passed over because a later rung was reached at the same run
    outbox_id: int | None = Field(default=None, foreign_key="outboxmessage.id")
    created_at: datetime = Field(default_factory=utcnow)


class ItemEvent(SQLModel, table=True):
    """An administrator's or unit's action on an item: complete, waive, reopen."""

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="checklistitem.id", index=True)
    action: str  # complete | waive | reopen | withdraw | move-due (zwgk plan move-due) | reclock (zwgk event update)
    by: str = ""
    reason: str = ""
    at: datetime = Field(default_factory=utcnow)
