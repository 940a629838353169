"""What a unit handed in for an item (填报) and the files it attached (附件)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from zwgk.clock import utcnow


class ReviewState(StrEnum):
    """Where a submission stands with the office (审核)."""

    none = "none"  # the obligation needs no review
    awaiting = "awaiting"  # 待审核
    accepted = "accepted"  # 通过
    returned = "returned"  # 退回


REVIEW_LABELS = {
    ReviewState.none: "无需审核",
    ReviewState.awaiting: "待审核",
    ReviewState.accepted: "审核通过",
    ReviewState.returned: "已退回",
}


class Submission(SQLModel, table=True):
    """One completion a unit submitted: evidence URL, attachment or both, or 本期无."""

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="checklistitem.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    at: datetime = Field(default_factory=utcnow)
    by: str = ""
    evidence: str | None = None
    note: str | None = None
    nil_reason: str | None = None  # 本期无: why there is nothing to do this period
    review: ReviewState = Field(default=ReviewState.none, index=True)
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None
    return_reason: str | None = None  # 退回理由


class Attachment(SQLModel, table=True):
    """A file a unit attached, stored under var/attachments/ by a random name."""

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    item_id: int = Field(foreign_key="checklistitem.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    filename: str  # as the unit named it (shown and offered on download)
    stored_as: str  # random name under var/attachments/
    content_type: str
    size: int
    sha256: str
    created_at: datetime = Field(default_factory=utcnow)
