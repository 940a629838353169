"""The outbox (发件箱): every message is recorded before it is sent, exactly once."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from zwgk.clock import utcnow


class OutboxStatus(StrEnum):
    pending = "pending"
    sending = "sending"
    sent = "sent"
    failed = "failed"


# How a status reads to the office (the workbench, ``zwgk outbox list``).
STATUS_LABELS = {
    OutboxStatus.pending: "待发送",
    OutboxStatus.sending: "发送中",
    OutboxStatus.sent: "已发送",
    OutboxStatus.failed: "发送失败",
}


class OutboxMessage(SQLModel, table=True):
    """One email to one unit. ``key`` makes a message for the same purpose unique.

    Life cycle: ``pending`` → (claimed by one dispatcher: ``sending`` with its
    ``claim_token``, who holds it and since when) → ``sent``, or back to ``pending`` with
    ``last_error`` and a ``next_attempt_at`` (exponential backoff), or ``failed`` with the
    server's reason after a permanent refusal or ``ZWGK_MAX_SEND_ATTEMPTS`` attempts. A claim
    whose dispatcher is gone goes back to ``pending`` (see ``notifications/outbox.py``).
    """

    __table_args__ = (UniqueConstraint("key", name="uq_outbox_key"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str  # e.g. "assignment:monthly-filing:2026-11:unit=12"
    recipient: str
    cc: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    obligation: str = Field(index=True)
    period: str
    kind: str  # assignment | reminder-... | escalation
    subject: str
    body_text: str = Field(sa_type=Text)
    body_html: str = Field(sa_type=Text)
    status: OutboxStatus = Field(default=OutboxStatus.pending, index=True)
    attempts: int = 0
    last_error: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    claimed_at: datetime | None = None  # lease start, renewed before each send
    claim_token: str | None = None  # the dispatch holding the claim
    claimed_by: str | None = None  # "host:pid" of the process holding the claim
    # That process's identity, "<boot id>/<pid namespace>/<start time>" (Linux /proc), so a
    # dispatcher on the same machine can tell at once that it is gone (or its pid reused).
    claim_process: str | None = None
    next_attempt_at: datetime | None = None  # backoff after a temporary failure
    sent_at: datetime | None = None


class OutboxAttachment(SQLModel, table=True):
    """A file sent with an outbox message (e.g. the annual report draft)."""

    id: int | None = Field(default=None, primary_key=True)
    outbox_id: int = Field(foreign_key="outboxmessage.id", index=True)
    filename: str
    mime_type: str
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
