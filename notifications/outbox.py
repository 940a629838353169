"""The outbox (发件箱): enqueue once per purpose, dispatch with claim-by-update.

* ``enqueue`` inserts a message under a unique ``key`` (e.g. the assignment of one
  obligation period to one unit); enqueueing the same key again does nothing, so a rerun
  never mails twice.
* ``dispatch`` claims pending rows by an UPDATE that only succeeds for one worker, sends
  them over one SMTP connection, and records each result in its own commit right after the
  server accepted it. A process killed between the server's acceptance and that commit can
  leave at most the one message in flight to be sent again (it is reclaimed after
  ``STALE_CLAIM``); nothing else is lost or doubled.
* A temporary failure (4xx, connection trouble) leaves the row ``pending`` with the error
  and the attempt counted, for a later run; a permanent one (5xx, refused recipient) or
  too many attempts marks it ``failed`` with the server's reason.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from zwgk.config import Settings
from zwgk.db import session_scope, utcnow
from zwgk.models.outbox import OutboxAttachment, OutboxMessage, OutboxStatus
from zwgk.notifications.smtp import ConnectError, Envelope, SendError, connect

logger = logging.getLogger(__name__)

STALE_CLAIM = timedelta(minutes=15)


def enqueue(*, session: Session, message: OutboxMessage) -> bool:
    """Add ``message`` unless one with the same key exists. True when added."""
    exists = session.exec(select(OutboxMessage.id).where(OutboxMessage.key == message.key)).first()
    if exists is not None:
        return False
    session.add(message)
    return True


@dataclass
class DispatchReport:
    sent: list[int] = field(default_factory=list)
    retry: list[tuple[int, str]] = field(default_factory=list)  # still pending, with error
    failed: list[tuple[int, str]] = field(default_factory=list)  # given up

    @property
    def ok(self) -> bool:
        return not self.retry and not self.failed

    def summary(self) -> str:
        parts = [f"已发送 {len(self.sent)} 封"]
        if self.retry:
            parts.append(f"{len(self.retry)} 封暂未发出（下次运行时重试）")
        if self.failed:
            parts.append(f"{len(self.failed)} 封发送失败（不再重试）")
        return "，".join(parts)

    def errors(self) -> list[str]:
        return [f"邮件 #{i}：{e}" for i, e in self.retry + self.failed]


def _message_id(msg: OutboxMessage, settings: Settings) -> str:
    digest = hashlib.sha1(msg.key.encode()).hexdigest()[:16]
    domain = settings.mail_from.rsplit("@", 1)[-1].strip(" >") or "zwgk.local"
    return f"<zwgk-{msg.id}-{digest}@{domain}>"


def claim(*, ids: list[int] | None = None, limit: int | None = None) -> list[OutboxMessage]:
    """Claim pending rows for this worker (status → sending). Each row goes to one worker."""
    now = utcnow()
    with session_scope() as s:
        # Rows left in 'sending' by a killed process are pending again after a while.
        s.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.status) == OutboxStatus.sending)
            .where(col(OutboxMessage.claimed_at) < now - STALE_CLAIM)
            .values(status=OutboxStatus.pending)
        )
        stmt = select(OutboxMessage.id).where(OutboxMessage.status == OutboxStatus.pending)
        if ids is not None:
            stmt = stmt.where(col(OutboxMessage.id).in_(ids))
        stmt = stmt.order_by(col(OutboxMessage.id))
        if limit:
            stmt = stmt.limit(limit)
        candidates = list(s.exec(stmt))
    claimed: list[OutboxMessage] = []
    for mid in candidates:
        with session_scope() as s:
            result = s.execute(
                update(OutboxMessage)
                .where(col(OutboxMessage.id) == mid)
                .where(col(OutboxMessage.status) == OutboxStatus.pending)
                .values(status=OutboxStatus.sending, claimed_at=now)
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                msg = s.get(OutboxMessage, mid)
                if msg is not None:
                    claimed.append(msg)
    return claimed


def _record(
    mid: int,
    *,
    settings: Settings,
    sent: bool = False,
    error: str | None = None,
    permanent: bool = False,
    count_attempt: bool = True,
) -> str:
    """Store one outcome in its own transaction; returns the new status."""
    with session_scope() as s:
        msg = s.get(OutboxMessage, mid)
        if msg is None:
            return "missing"
        if count_attempt:
            msg.attempts += 1
        if sent:
            msg.status = OutboxStatus.sent
            msg.sent_at = utcnow()
            msg.last_error = None
        else:
            msg.last_error = error
            give_up = permanent or msg.attempts >= settings.max_send_attempts
            msg.status = OutboxStatus.failed if give_up else OutboxStatus.pending
        msg.claimed_at = None
        s.add(msg)
        return msg.status


def dispatch(
    *, settings: Settings, ids: list[int] | None = None, limit: int | None = None
) -> DispatchReport:
    """Send pending outbox messages over one SMTP connection."""
    report = DispatchReport()
    batch = claim(ids=ids, limit=limit)
    if not batch:
        return report
    remaining = list(batch)
    try:
        with connect(settings) as conn:
            while remaining:
                msg = remaining[0]
                envelope = Envelope(
                    attachments=_attachments(msg.id),  # type: ignore[arg-type]
                    to=[msg.recipient],
                    cc=tuple(msg.cc or ()),
                    subject=msg.subject,
                    html=msg.body_html,
                    text=msg.body_text,
                    message_id=_message_id(msg, settings),
                )
                try:
                    conn.send(envelope)
                except ConnectError:
                    raise  # the connection is gone: the rest of the batch waits
                except SendError as exc:
                    remaining.pop(0)
                    status = _record(
                        msg.id, settings=settings, error=str(exc), permanent=exc.permanent
                    )  # type: ignore[arg-type]
                    target = report.failed if status == OutboxStatus.failed else report.retry
                    target.append((msg.id, str(exc)))  # type: ignore[arg-type]
                    logger.warning("outbox #%s not sent: %s", msg.id, exc)
                    continue
                remaining.pop(0)
                _record(msg.id, settings=settings, sent=True)  # type: ignore[arg-type]
                report.sent.append(msg.id)  # type: ignore[arg-type]
    except ConnectError as exc:
        for msg in remaining:
            status = _record(msg.id, settings=settings, error=str(exc))  # type: ignore[arg-type]
            target = report.failed if status == OutboxStatus.failed else report.retry
            target.append((msg.id, str(exc)))  # type: ignore[arg-type]
        logger.warning("SMTP connection failed: %s", exc)
    return report


def _attachments(outbox_id: int) -> tuple[tuple[str, bytes, str], ...]:
    with session_scope() as s:
        rows = s.exec(select(OutboxAttachment).where(OutboxAttachment.outbox_id == outbox_id)).all()
        return tuple((a.filename, a.data, a.mime_type) for a in rows)


def list_outbox(*, session: Session, status: str | None = None) -> list[OutboxMessage]:
    stmt = select(OutboxMessage)
    if status:
        stmt = stmt.where(OutboxMessage.status == status)
    return list(session.exec(stmt.order_by(col(OutboxMessage.id))))


def retry(*, session: Session, ids: list[int] | None) -> int:
    """Put failed messages back to pending (all failed ones when ``ids`` is None)."""
    stmt = update(OutboxMessage).where(
        or_(
            col(OutboxMessage.status) == OutboxStatus.failed,
            col(OutboxMessage.status) == OutboxStatus.pending,
        )
    )
    if ids is not None:
        stmt = stmt.where(col(OutboxMessage.id).in_(ids))
    result = session.execute(stmt.values(status=OutboxStatus.pending, attempts=0))
    return int(result.rowcount)  # type: ignore[attr-defined]
