"""Checklist items: completion (完成登记) and status queries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from models.checklist import ChecklistItem, ItemStatus
from models.reminder import ItemEvent
from models.submission import ReviewState, Submission
from models.unit import Unit
from notifications.render import cn_day
from zwgk.clock import as_utc, utcnow
from zwgk.config import SHANGHAI
from zwgk.errors import UserError

TZ = ZoneInfo(SHANGHAI)


def derived_status(item: ChecklistItem, today: date) -> str:
    """pending | done | waived, or overdue for a pending item past its due date."""
    if item.status == ItemStatus.pending and item.due < today:
        return "overdue"
    return str(item.status)


def validate_evidence_url(url: str) -> str:
    """An evidence link must be an absolute http(s) URL with a host."""
    url = (url or "").strip()
    if not url:
        raise UserError("佐证网址不能为空：请填写发布页面的网址（以 http:// 或 https:// 开头）")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in url:
        raise UserError(f"佐证网址「{url}」无效：应为以 http:// 或 https:// 开头的完整网址")
    return url


@dataclass
class CompletionResult:
    item: ChecklistItem
    already_done: bool


def complete(
    *,
    session: Session,
    item_id: int,
    evidence: str,
    note: str | None = None,
    by: str | None = None,
    now: datetime | None = None,
) -> CompletionResult:
    """Record completion with evidence; completing a done item again changes nothing."""
    evidence = validate_evidence_url(evidence)
    item = _get(session, item_id)
    if item.status == ItemStatus.done:
        return CompletionResult(item, already_done=True)
    if item.status == ItemStatus.waived:
        raise UserError(
            f"事项 {item_id} 已免于办理（waived），如需登记完成请先 zwgk reopen {item_id}"
        )
    now = now or utcnow()
    session.add(
        ItemEvent(item_id=item.id, action="complete", by=by or "", reason=note or "", at=now)  # type: ignore[arg-type]
    )
    item.status = ItemStatus.done
    item.completed_at = now
    item.on_time = now.astimezone(TZ).date() <= item.due
    item.evidence = evidence
    item.note = note or None
    item.completed_by = by or None
    session.add(item)
    return CompletionResult(item, already_done=False)


def _get(session: Session, item_id: int) -> ChecklistItem:
    item = session.get(ChecklistItem, item_id)
    if item is None:
        raise UserError(f"事项编号 {item_id} 不存在")
    return item


def waive(*, session: Session, item_id: int, reason: str, by: str) -> ChecklistItem:
    """Excuse an item (免办) with a reason; recorded with who and when."""
    reason = (reason or "").strip()
    if not reason:
        raise UserError("免办必须说明理由：请使用 --reason 填写")
    item = _get(session, item_id)
    if item.status == ItemStatus.waived:
        return item
    if item.status == ItemStatus.done:
        raise UserError(f"事项 {item_id} 已完成，无需免办；如登记有误请先 zwgk reopen {item_id}")
    item.status = ItemStatus.waived
    item.note = reason
    session.add(item)
    session.add(ItemEvent(item_id=item_id, action="waive", by=by, reason=reason))
    return item


def reopen(*, session: Session, item_id: int, by: str, reason: str = "") -> ChecklistItem:
    """Put a done or waived item back to pending (its reminders resume). A submission still
    awaiting review (待审核) goes with it: marked returned (已退回) by ``by`` with the reason,
    and the history says so, so no 待审核 is left on an open item. (退回 itself marks the
    submission first and then reopens; it finds nothing awaiting here.)"""
    item = _get(session, item_id)
    if item.status == ItemStatus.pending:
        return item
    dropped = list(
        session.exec(
            select(Submission)
            .where(Submission.item_id == item_id)
            .where(Submission.review == ReviewState.awaiting)
        )
    )
    for sub in dropped:
        sub.review = ReviewState.returned
        sub.reviewed_by = by
        sub.reviewed_at = utcnow()
        sub.return_reason = "重新打开" + (f"：{reason}" if reason else "") + "（未经审核）"
        session.add(sub)
    if dropped:
        reason = (reason + "；" if reason else "") + "待审核的填报随之撤销，不再审核"
    item.status = ItemStatus.pending
    item.completed_at = None
    item.on_time = None
    item.evidence = None
    item.completed_by = None
    session.add(item)
    session.add(ItemEvent(item_id=item_id, action="reopen", by=by, reason=reason))
    return item


def extend_due(
    *, session: Session, item_id: int, new_due: date, reason: str, by: str
) -> ChecklistItem:
    """Give one open item a later due date (延长截止日期), with a reason; recorded with who
    and when. Only later dates: an earlier one would make a unit overdue without warning."""
    reason = (reason or "").strip()
    if not reason:
        raise UserError("延长截止日期必须说明理由")
    item = _get(session, item_id)
    if item.status != ItemStatus.pending:
        raise UserError(f"事项 {item_id} 已办结或免办，无需延期；如需延期请先重新打开")
    if new_due <= item.due:
        raise UserError(f"新的截止日期{cn_day(new_due)}应晚于现在的截止日期{cn_day(item.due)}")
    old = item.due
    item.due = new_due
    item.provisional = False
    session.add(item)
    session.add(
        ItemEvent(
            item_id=item_id,
            action="extend",
            by=by,
            reason=f"截止日期由{cn_day(old)}延至{cn_day(new_due)}：{reason}",
        )
    )
    return item


def query_items(
    *,
    session: Session,
    obligation: str | None = None,
    period: str | None = None,
    unit: Unit | None = None,
    district: str | None = None,
) -> list[tuple[ChecklistItem, Unit]]:
    stmt = select(ChecklistItem, Unit).join(Unit, col(Unit.id) == col(ChecklistItem.unit_id))
    if district:
        stmt = stmt.where(Unit.district == district)
    if obligation:
        stmt = stmt.where(ChecklistItem.obligation == obligation)
    if period:
        stmt = stmt.where(ChecklistItem.period == period)
    if unit is not None:
        stmt = stmt.where(ChecklistItem.unit_id == unit.id)
    stmt = stmt.order_by(
        col(ChecklistItem.due), col(ChecklistItem.obligation), col(ChecklistItem.id)
    )
    return [(i, u) for i, u in session.exec(stmt)]


def awaiting_review_ids(
    *, session: Session, items: Sequence[ChecklistItem] | None = None
) -> set[int]:
    """Ids of the done items whose completion waits for the office's review (待审核), among
    ``items`` (all items when None)."""
    stmt = (
        select(Submission.item_id)
        .join(ChecklistItem, col(ChecklistItem.id) == col(Submission.item_id))
        .where(Submission.review == ReviewState.awaiting)
        .where(ChecklistItem.status == ItemStatus.done)
    )
    found = set(session.exec(stmt))
    if items is None:
        return found
    return found & {i.id for i in items if i.status == ItemStatus.done}  # type: ignore[misc]


def item_json(
    item: ChecklistItem, unit: Unit, today: date, *, awaiting_review: bool = False
) -> dict[str, Any]:
    """One item as ``zwgk status --json`` prints it. ``awaiting_review``: the item is done
    by the unit and waits for the office's review (待审核); its ``status`` stays ``done``,
    the counts (dashboard, status, reports) keep it apart and 完成率 leaves it out."""
    completed = as_utc(item.completed_at)
    return {
        "id": item.id,
        "obligation": item.obligation,
        "period": item.period,
        "unit": unit.name,
        "step": item.step,
        "role": str(item.role),
        "due": item.due.isoformat(),
        "status": derived_status(item, today),
        "awaiting_review": awaiting_review,
        "completed_at": completed.isoformat() if completed else None,
        "evidence": item.evidence,
        "due_basis": item.due_basis,  # how an information request's due date was computed
    }
