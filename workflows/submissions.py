"""Units' submissions (填报) with attachments, 本期无, and the office's review (审核).

A unit completes an item with an evidence URL, an attached file, or both, and a note; where
the obligation allows it (``Obligation.allow_nil``) it may instead declare 本期无 with a
reason. Every submission is a :class:`~models.submission.Submission` row; its files are
:class:`~models.submission.Attachment` rows whose bytes live under ``var/attachments/`` by a
random name (never under a served folder, never by the unit's name for it).

Where the obligation needs review (``Obligation.review``) the completion waits as 待审核:
the item counts as done (as ``zwgk status`` shows it) until the office sends it back
(退回), which opens the item again, records the reason and queues a mail to the unit that
quotes the reason and its link. 通过 closes the review.
"""

from __future__ import annotations

import hashlib
import secrets
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import update
from sqlmodel import Session, col, select

from models.checklist import ChecklistItem, ItemStatus
from models.outbox import OutboxMessage
from models.reminder import ItemEvent
from models.submission import Attachment, ReviewState, Submission
from models.unit import Unit
from notifications.links import unit_link
from notifications.outbox import enqueue
from notifications.render import render
from workflows.items import TZ, reopen, validate_evidence_url
from workflows.registry import REGISTRY, item_titles
from zwgk.clock import as_utc, today_shanghai, utcnow
from zwgk.config import Settings
from zwgk.errors import UserError

MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
ALLOWED_LABEL = "PDF、DOCX、XLSX、JPG、PNG"
MAX_NOTE = 2000


def attachments_dir(settings: Settings) -> Path:
    return settings.var_dir / "attachments"


def sniff(head: bytes, path: Path) -> tuple[str, str] | None:
    """(extension, MIME type) from the file's content, or None when it is none of the
    accepted kinds. DOCX and XLSX are ZIP files told apart by their main part."""
    if head.startswith(b"%PDF-"):
        return "pdf", "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png", "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg", "image/jpeg"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as z:
                names = set(z.namelist())
        except (zipfile.BadZipFile, OSError):
            return None
        if "word/document.xml" in names:
            return (
                "docx",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            )
        if "xl/workbook.xml" in names:
            return "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return None


@dataclass(frozen=True)
class StoredFile:
    """A checked upload written under var/attachments/ (not yet in the database)."""

    filename: str
    path: Path
    content_type: str
    size: int
    sha256: str

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


def _clean_name(name: str, ext: str) -> str:
    base = Path(name.replace("\\", "/")).name.strip() or f"附件.{ext}"
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '"<>|:*?')[:120]
    return base or f"附件.{ext}"


def store_upload(source: BinaryIO, filename: str, settings: Settings) -> StoredFile:
    """Copy an upload to var/attachments/<random>, checking its size and its content's type.
    A refused file is removed and named in the UserError."""
    folder = attachments_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    shown = _clean_name(filename, "bin")
    target = folder / secrets.token_hex(16)
    digest = hashlib.sha256()
    size = 0
    try:
        with open(target, "xb") as out:
            while chunk := source.read(1024 * 1024):
                size += len(chunk)
                if size > MAX_ATTACHMENT_BYTES:
                    raise UserError(f"附件「{shown}」超过 20 MB，未保存。请压缩后重新上传。")
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise UserError(f"附件「{shown}」是空文件，未保存。")
        with open(target, "rb") as f:
            head = f.read(16)
        kind = sniff(head, target)
        if kind is None:
            raise UserError(
                f"附件「{shown}」不是可接受的文件类型（只接受 {ALLOWED_LABEL}，"
                "按文件内容判断，与文件名无关），未保存。"
            )
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    ext, ctype = kind
    if not shown.lower().endswith(f".{ext}") and not (
        ext == "jpg" and shown.lower().endswith(".jpeg")
    ):
        shown = f"{Path(shown).stem or '附件'}.{ext}"
    return StoredFile(shown, target, ctype, size, digest.hexdigest())


def open_attachment(att: Attachment, settings: Settings) -> bytes:
    path = attachments_dir(settings) / att.stored_as
    if not path.is_file():
        raise UserError(f"附件「{att.filename}」的文件已不在存储目录中。")
    return path.read_bytes()


@dataclass
class SubmitResult:
    submission: Submission | None
    already_done: bool


def submit(
    *,
    session: Session,
    item_id: int,
    unit_id: int,
    evidence: str = "",
    note: str = "",
    file: StoredFile | None = None,
    nil_reason: str | None = None,
    by: str = "",
    now: datetime | None = None,
) -> SubmitResult:
    """Record a unit's completion. Needs a URL, a file, or (where allowed) 本期无 with a
    reason. An item already done is left as it is (a double-submitted form writes once)."""
    item = session.get(ChecklistItem, item_id)
    if item is None or item.unit_id != unit_id:
        raise UserError(f"事项编号 {item_id} 不存在，或不属于本单位")
    if item.status == ItemStatus.done:
        return SubmitResult(None, already_done=True)
    if item.status == ItemStatus.waived:
        raise UserError(f"事项 {item_id} 已免于办理，无需登记")
    ob = REGISTRY.get(item.obligation)
    evidence = (evidence or "").strip()
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise UserError("备注过长（最多 2000 字）")
    if nil_reason is not None:
        if ob is None or not ob.allow_nil:
            raise UserError("该事项不适用“本期无”，请填写公开网址或上传附件")
        nil_reason = nil_reason.strip()
        if not nil_reason:
            raise UserError("选择“本期无”须说明理由（例如：本月无新增公文）")
        if len(nil_reason) > MAX_NOTE:
            raise UserError("“本期无”理由过长（最多 2000 字）")
        if evidence or file:
            raise UserError("选择“本期无”时请勿同时填写网址或上传附件")
    elif not evidence and file is None:
        raise UserError(
            "请填写公开网址（以 http:// 或 https:// 开头）或上传附件"
            + ("，或选择“本期无”并说明理由" if ob is not None and ob.allow_nil else "")
        )
    if evidence:
        evidence = validate_evidence_url(evidence)
    now = now or utcnow()
    # Claim the item: of two forms sent at once, only the one whose UPDATE finds it still
    # pending goes on (the other is told it is done), so a double submission writes once.
    claimed = session.execute(
        update(ChecklistItem)
        .where(col(ChecklistItem.id) == item_id)
        .where(col(ChecklistItem.status) == ItemStatus.pending)
        .values(status=ItemStatus.done)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        session.expire(item)
        return SubmitResult(None, already_done=True)
    sub = Submission(
        item_id=item_id,
        unit_id=unit_id,
        at=now,
        by=by,
        evidence=evidence or None,
        note=note or None,
        nil_reason=nil_reason,
        review=ReviewState.awaiting if ob is not None and ob.review else ReviewState.none,
    )
    session.add(sub)
    session.flush()
    parts = []
    if evidence:
        parts.append(f"网址 {evidence}")
    if file is not None:
        session.add(
            Attachment(
                submission_id=sub.id,  # type: ignore[arg-type]
                item_id=item_id,
                unit_id=unit_id,
                filename=file.filename,
                stored_as=file.path.name,
                content_type=file.content_type,
                size=file.size,
                sha256=file.sha256,
                created_at=now,
            )
        )
        parts.append(f"附件 {file.filename}")
    if nil_reason is not None:
        parts.append(f"本期无：{nil_reason}")
    if note:
        parts.append(f"备注：{note}")
    if sub.review == ReviewState.awaiting:
        parts.append("待审核")
    session.add(
        ItemEvent(item_id=item_id, action="complete", by=by, reason="；".join(parts), at=now)
    )
    item.status = ItemStatus.done
    item.completed_at = now
    item.on_time = now.astimezone(TZ).date() <= item.due
    item.evidence = evidence or None
    item.note = (f"本期无：{nil_reason}" if nil_reason is not None else note) or None
    item.completed_by = by or None
    session.add(item)
    return SubmitResult(sub, already_done=False)


def latest_submission(*, session: Session, item_id: int) -> Submission | None:
    return session.exec(
        select(Submission)
        .where(Submission.item_id == item_id)
        .order_by(col(Submission.at).desc(), col(Submission.id).desc())
    ).first()


def _awaiting(session: Session, item_id: int) -> Submission:
    sub = latest_submission(session=session, item_id=item_id)
    item = session.get(ChecklistItem, item_id)
    if item is None:
        raise UserError(f"事项编号 {item_id} 不存在")
    if sub is None or sub.review != ReviewState.awaiting or item.status != ItemStatus.done:
        raise UserError(f"事项 {item_id} 没有待审核的填报（可能已审核过）")
    return sub


def accept(*, session: Session, item_id: int, by: str) -> Submission:
    """通过: the awaiting submission is accepted; the item stays done."""
    sub = _awaiting(session, item_id)
    sub.review = ReviewState.accepted
    sub.reviewed_by = by
    sub.reviewed_at = utcnow()
    session.add(sub)
    session.add(ItemEvent(item_id=item_id, action="accept", by=by, reason="审核通过"))
    return sub


def send_back(
    *, session: Session, item_id: int, by: str, reason: str, settings: Settings
) -> Submission:
    """退回: the item is open again and the unit gets a mail quoting ``reason`` and its link."""
    reason = (reason or "").strip()
    if not reason:
        raise UserError("退回须说明理由，单位将在邮件中看到这段话")
    if len(reason) > MAX_NOTE:
        raise UserError("退回理由过长（最多 2000 字）")
    sub = _awaiting(session, item_id)
    sub.review = ReviewState.returned
    sub.reviewed_by = by
    sub.reviewed_at = utcnow()
    sub.return_reason = reason
    session.add(sub)
    item = reopen(session=session, item_id=item_id, by=by, reason=f"退回：{reason}")
    # reopen() recorded the reopening; name it as the return in the history and audit log.
    for obj in session.new:
        if isinstance(obj, ItemEvent) and obj.item_id == item_id and obj.action == "reopen":
            obj.action = "return"
    item.note = None
    session.add(item)
    unit = session.get(Unit, item.unit_id)
    if unit is not None and unit.email:
        ob = REGISTRY.get(item.obligation)
        rendered = render(
            "returned",
            ob.template_dir if ob else item.obligation,
            unit=unit,
            item=item,
            title=item_titles().get(item.obligation, item.obligation),
            reason=reason,
            submitted_at=(as_utc(sub.at) or sub.at).astimezone(TZ).date(),
            link=unit_link(unit.id, settings),  # type: ignore[arg-type]
            today=today_shanghai(),
            subject="",
        )
        enqueue(
            session=session,
            message=OutboxMessage(
                key=f"returned:{sub.id}",
                recipient=unit.email,
                unit_id=unit.id,
                obligation=item.obligation,
                period=item.period,
                kind="returned",
                subject=rendered.subject,
                body_text=rendered.text,
                body_html=rendered.html,
            ),
        )
    return sub


def item_submissions(
    *, session: Session, item_id: int
) -> list[tuple[Submission, list[Attachment]]]:
    subs = list(
        session.exec(
            select(Submission)
            .where(Submission.item_id == item_id)
            .order_by(col(Submission.at), col(Submission.id))
        )
    )
    atts = list(
        session.exec(
            select(Attachment).where(Attachment.item_id == item_id).order_by(col(Attachment.id))
        )
    )
    return [(s, [a for a in atts if a.submission_id == s.id]) for s in subs]


def awaiting_review(*, session: Session) -> list[tuple[Submission, ChecklistItem, Unit]]:
    """Submissions the office has yet to review, oldest first."""
    stmt = (
        select(Submission, ChecklistItem, Unit)
        .join(ChecklistItem, col(ChecklistItem.id) == col(Submission.item_id))
        .join(Unit, col(Unit.id) == col(Submission.unit_id))
        .where(Submission.review == ReviewState.awaiting)
        .where(ChecklistItem.status == ItemStatus.done)
        .order_by(col(Submission.at), col(Submission.id))
    )
    return [(s, i, u) for s, i, u in session.exec(stmt)]


__all__ = [
    "MAX_ATTACHMENT_BYTES",
    "StoredFile",
    "accept",
    "awaiting_review",
    "item_submissions",
    "latest_submission",
    "send_back",
    "sniff",
    "store_upload",
    "submit",
]
