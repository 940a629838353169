"""Office accounts (工作台账号) and the audit log (操作日志).

Every :class:`~models.reminder.ItemEvent` added to a session (complete, waive, reopen,
move-due, reclock, withdraw: from the CLI, a flow, a unit's page or the workbench) is copied
into the audit log in the same flush, with the item's fields before and after, so no caller
has to remember to write it (see :func:`_mirror_item_events`).
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint, event
from sqlalchemy.orm.attributes import get_history
from sqlmodel import Field, Session, SQLModel

from models.checklist import ChecklistItem
from models.reminder import ItemEvent
from models.unit import Unit
from zwgk.clock import utcnow


class UserRole(StrEnum):
    """admin: 政务公开办 staff, changes things in their district (all when none);
    viewer: 领导/督查, reads everything in their district, changes nothing."""

    admin = "admin"
    viewer = "viewer"


ROLE_LABELS = {UserRole.admin: "管理员", UserRole.viewer: "只读"}


class User(SQLModel, table=True):
    """An office account for the workbench (/admin)."""

    __tablename__ = "account"  # "user" is a reserved word in PostgreSQL
    __table_args__ = (UniqueConstraint("name", name="uq_account_name"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str
    role: UserRole
    district: str | None = None  # None: every district
    password_hash: str
    active: bool = True
    # Failed logins since the last good one; six lock the account until locked_until.
    failed_logins: int = 0
    locked_until: datetime | None = None
    # Bumped when the password changes or the account is disabled: older sessions end.
    session_epoch: int = 0
    last_login_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class AuditEntry(SQLModel, table=True):
    """One change, who made it, when, and the values before and after (操作日志)."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    user: str  # account name, "cli:<os user>", or the ``by`` of an item event
    action: str = Field(index=True)  # login, login-failed, lockout, user-add, waive, …
    target: str = ""  # e.g. "item 12", "user 张三"
    district: str | None = Field(default=None, index=True)
    detail: str = ""  # one Chinese sentence
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


# Who is acting, when the caller knows better than an event's ``by`` (the workbench sets
# the logged-in account; the CLI its operating-system user).
current_actor: ContextVar[str | None] = ContextVar("zwgk_current_actor", default=None)

_ITEM_FIELDS = ("status", "due", "evidence", "note", "completed_by", "clock_from")


def _plain(value: object) -> object:
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value) if value is not None and not isinstance(value, int | bool) else value


def _mirror_item_events(session: Session, _context: object, _instances: object) -> None:
    """Before a flush: one AuditEntry per new ItemEvent, with the item's changed fields."""
    new_events = [o for o in session.new if isinstance(o, ItemEvent)]
    if not new_events:
        return
    # Inside a flush session.get does not autoflush: it reads the identity map or the database.
    for ev in new_events:
        item = session.get(ChecklistItem, ev.item_id)
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        district = None
        target = f"事项 {ev.item_id}"
        if item is not None:
            for name in _ITEM_FIELDS:
                hist = get_history(item, name)
                if hist.has_changes():
                    before[name] = _plain(hist.deleted[0] if hist.deleted else None)
                    after[name] = _plain(hist.added[0] if hist.added else None)
            unit = session.get(Unit, item.unit_id)
            if unit is not None:
                district = unit.district
                target = f"事项 {ev.item_id}（{unit.name}）"
        session.add(
            AuditEntry(
                at=ev.at or utcnow(),
                user=current_actor.get() or ev.by or "系统",
                action=ev.action,
                target=target,
                district=district,
                detail=(f"{ev.by}：" if ev.by else "") + (ev.reason or ""),
                before=before or None,
                after=after or None,
            )
        )


# On the app's sessions (SQLModel's Session), not every SQLAlchemy session in the process
# (Prefect's server may share it).
event.listen(Session, "before_flush", _mirror_item_events)
