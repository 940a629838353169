"""The outbox (发件箱): enqueue once per purpose; dispatch so that nothing is lost or doubled.

* ``enqueue`` inserts a message under a unique ``key`` (e.g. the assignment of one
  obligation period to one unit); enqueueing the same key again does nothing, so a rerun
  never mails twice, and two runs at once collide on the unique key (one of them retries,
  see ``zwgk.db.transact``).
* ``dispatch`` claims due ``pending`` rows in chunks with one conditional UPDATE (``FOR
  UPDATE SKIP LOCKED`` on PostgreSQL), stamping them with its own token, so each row goes
  to one dispatcher even with several workers at once.
* Before each send the dispatcher renews its claim on that row in the same commit that
  records the previous message's outcome: one commit per message, made right after the
  server accepted it. A row whose claim was taken over (lease expired) is skipped.
* A temporary failure (4xx, timeout, dropped connection) puts the row back to ``pending``
  with the error, the attempt counted and ``next_attempt_at`` pushed back exponentially
  (``ZWGK_SEND_BACKOFF_SECONDS`` × 2^(attempts-1), at most 6 h); a permanent one (5xx, a
  refused recipient) or ``ZWGK_MAX_SEND_ATTEMPTS`` attempts mark it ``failed`` with the
  server's reason. The backoff binds the frequent automatic retries (the ``outbox`` flow,
  ``zwgk outbox send``); an obligation or reminder run, deliberate and infrequent, tries
  every pending message (``respect_backoff=False``). ``retry`` puts failed rows back.
* A connection dropped mid-batch is re-opened (at most ``MAX_RECONNECTS`` times, and only
  after the connection had delivered something, so a server that refuses every message
  does not make us loop); otherwise the rest wait for the next run.

What can be doubled: only the one message in flight when the process is killed, or when
the connection dies after the message's data went out but before the server's reply
(SMTP cannot tell whether the server kept it). It stays ``sending`` until its lease
(``ZWGK_OUTBOX_LEASE_SECONDS``) runs out, then the next dispatch sends it again with the
same ``Message-ID``, which lets mail clients show it once.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, or_, update
from sqlmodel import Session, col, select

from zwgk.bulk import insert_rows
from zwgk.config import Settings
from zwgk.db import as_utc, session_scope, utcnow
from zwgk.models.outbox import OutboxAttachment, OutboxMessage, OutboxStatus
from zwgk.notifications.smtp import ConnectError, Connection, Envelope, SendError, connect

logger = logging.getLogger(__name__)

MAX_RECONNECTS = 3
MAX_BACKOFF = timedelta(hours=6)


def enqueue(*, session: Session, message: OutboxMessage) -> bool:
    """Add ``message`` unless one with the same key exists. True when added."""
    exists = session.exec(select(OutboxMessage.id).where(OutboxMessage.key == message.key)).first()
    if exists is not None:
        return False
    session.add(message)
    return True


OUTBOX_COLUMNS = (
    "key",
    "recipient",
    "cc",
    "unit_id",
    "obligation",
    "period",
    "kind",
    "subject",
    "body_text",
    "body_html",
    "status",
    "attempts",
    "created_at",
)


def enqueue_many(*, session: Session, messages: list[OutboxMessage]) -> list[OutboxMessage]:
    """Add the messages whose keys are not in the outbox yet; returns those, with their ids.

    For the flows that queue hundreds of mails at once: one SELECT of the keys, one bulk
    INSERT and one SELECT of the new ids, instead of a query and a flush per message.
    Two runs at once still collide on the unique key (the caller's transaction retries).
    """
    keys = [m.key for m in messages]
    existing: set[str] = set()
    for start in range(0, len(keys), 500):
        existing.update(
            session.exec(
                select(OutboxMessage.key).where(
                    col(OutboxMessage.key).in_(keys[start : start + 500])
                )
            )
        )
    new: dict[str, OutboxMessage] = {}
    for m in messages:
        if m.key not in existing and m.key not in new:
            new[m.key] = m
    if not new:
        return []
    session.flush()  # anything the caller added before goes first
    now = utcnow()
    insert_rows(
        session,
        OutboxMessage.__table__,  # type: ignore[arg-type]
        OUTBOX_COLUMNS,
        [
            (
                m.key,
                m.recipient,
                list(m.cc or []),
                m.unit_id,
                m.obligation,
                m.period,
                m.kind,
                m.subject,
                m.body_text,
                m.body_html,
                OutboxStatus.pending,
                0,
                now,
            )
            for m in new.values()
        ],
    )
    added = list(new)
    for start in range(0, len(added), 500):
        for mid, key in session.exec(
            select(OutboxMessage.id, OutboxMessage.key).where(
                col(OutboxMessage.key).in_(added[start : start + 500])
            )
        ):
            new[key].id = mid
    return list(new.values())


@dataclass
class DispatchReport:
    sent: list[int] = field(default_factory=list)
    retry: list[tuple[int, str]] = field(default_factory=list)  # still pending, with error
    failed: list[tuple[int, str]] = field(default_factory=list)  # given up
    waiting: int = 0  # pending from earlier failures, not yet due again (backoff)
    next_attempt: datetime | None = None  # when the first of those is due

    @property
    def ok(self) -> bool:
        return not self.retry and not self.failed

    def summary(self) -> str:
        parts = [f"已发送 {len(self.sent)} 封"]
        if self.retry:
            parts.append(f"{len(self.retry)} 封暂未发出（稍后自动重试）")
        if self.failed:
            parts.append(f"{len(self.failed)} 封发送失败（不再重试）")
        if self.waiting:
            when = f"，最早 {_local(self.next_attempt)}" if self.next_attempt else ""
            parts.append(f"另有 {self.waiting} 封等待重试{when}")
        return "，".join(parts)

    def errors(self) -> list[str]:
        """One line per distinct reason, naming the messages it hit."""
        by_reason: dict[str, list[int]] = {}
        for i, e in self.retry + self.failed:
            by_reason.setdefault(e, []).append(i)
        lines = []
        for reason, ids in by_reason.items():
            named = "、".join(f"#{i}" for i in ids[:5])
            more = f" 等 {len(ids)} 封" if len(ids) > 5 else ""
            lines.append(f"邮件 {named}{more}：{reason}")
        return lines


def _local(when: datetime | None) -> str:
    from zoneinfo import ZoneInfo

    if when is None:
        return ""
    return as_utc(when).astimezone(ZoneInfo("Asia/Shanghai")).strftime("%m-%d %H:%M")  # type: ignore[union-attr]


def message_id(msg: OutboxMessage, settings: Settings) -> str:
    """Stable per outbox row: a message sent again after a kill carries the same id."""
    digest = hashlib.sha1(msg.key.encode()).hexdigest()[:16]
    domain = settings.mail_from.rsplit("@", 1)[-1].strip(" >") or "zwgk.local"
    return f"<zwgk-{msg.id}-{digest}@{domain}>"


def backoff(attempts: int, settings: Settings) -> timedelta:
    """Wait before the next automatic attempt after ``attempts`` failed ones."""
    seconds = settings.send_backoff_seconds * 2 ** max(attempts - 1, 0)
    return min(timedelta(seconds=seconds), MAX_BACKOFF)


def _due(now: datetime):  # type: ignore[no-untyped-def]
    return or_(
        col(OutboxMessage.next_attempt_at).is_(None), col(OutboxMessage.next_attempt_at) <= now
    )


def claim(
    *,
    token: str,
    settings: Settings,
    limit: int,
    ids: list[int] | None = None,
    respect_backoff: bool = True,
    after: int = 0,
) -> tuple[list[OutboxMessage], dict[int, tuple[tuple[str, bytes, str], ...]]]:
    """Claim up to ``limit`` due pending rows with ids above ``after`` for ``token``
    (status → sending); one dispatch moves ``after`` forward so it tries each row once.

    Returns the rows and their attachments. Each row goes to exactly one dispatcher: the
    UPDATE only takes rows still ``pending``, atomically per row on both databases.
    """
    now = utcnow()
    with session_scope() as s:
        # Rows left in 'sending' by a killed process are pending again once their lease ends.
        s.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.status) == OutboxStatus.sending)
            .where(
                col(OutboxMessage.claimed_at)
                < now - timedelta(seconds=settings.outbox_lease_seconds)
            )
            .values(status=OutboxStatus.pending, claim_token=None)
        )
        pick = (
            select(OutboxMessage.id)
            .where(col(OutboxMessage.status) == OutboxStatus.pending)
            .where(col(OutboxMessage.id) > after)
            .order_by(col(OutboxMessage.id))
            .limit(limit)
        )
        if respect_backoff:
            pick = pick.where(_due(now))
        if ids is not None:
            pick = pick.where(col(OutboxMessage.id).in_(ids))
        if s.get_bind().dialect.name == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        s.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id).in_(pick))
            .where(col(OutboxMessage.status) == OutboxStatus.pending)
            .values(status=OutboxStatus.sending, claim_token=token, claimed_at=now)
        )
        rows = list(
            s.exec(
                select(OutboxMessage)
                .where(OutboxMessage.claim_token == token)
                .where(OutboxMessage.status == OutboxStatus.sending)
                .order_by(col(OutboxMessage.id))
            )
        )
        attachments: dict[int, list[tuple[str, bytes, str]]] = {}
        if rows:
            for a in s.exec(
                select(OutboxAttachment)
                .where(col(OutboxAttachment.outbox_id).in_([m.id for m in rows]))
                .order_by(col(OutboxAttachment.id))
            ):
                attachments.setdefault(a.outbox_id, []).append((a.filename, a.data, a.mime_type))
    return rows, {k: tuple(v) for k, v in attachments.items()}


@dataclass(frozen=True)
class _Outcome:
    id: int
    sent: bool
    error: str | None = None  # why not sent; for a sent one, the recipients refused
    permanent: bool = False


def _settle(
    outcome: _Outcome | None, *, next_id: int | None, token: str, settings: Settings
) -> tuple[str | None, bool]:
    """In one commit: record ``outcome`` and renew the claim on ``next_id``.

    Returns (the recorded row's new status, whether ``next_id`` is still ours to send).
    """
    now = utcnow()
    status: str | None = None
    ours = False
    with session_scope() as s:
        if outcome is not None:
            msg = s.get(OutboxMessage, outcome.id)
            if msg is not None:
                msg.attempts += 1
                msg.claimed_at = None
                msg.claim_token = None
                if outcome.sent:
                    msg.status = OutboxStatus.sent
                    msg.sent_at = now
                    msg.last_error = outcome.error
                    msg.next_attempt_at = None
                else:
                    msg.last_error = outcome.error
                    give_up = outcome.permanent or msg.attempts >= settings.max_send_attempts
                    msg.status = OutboxStatus.failed if give_up else OutboxStatus.pending
                    msg.next_attempt_at = None if give_up else now + backoff(msg.attempts, settings)
                s.add(msg)
                status = msg.status
        if next_id is not None:
            renewed = s.execute(
                update(OutboxMessage)
                .where(col(OutboxMessage.id) == next_id)
                .where(col(OutboxMessage.claim_token) == token)
                .where(col(OutboxMessage.status) == OutboxStatus.sending)
                .values(claimed_at=now)
            )
            ours = renewed.rowcount == 1  # type: ignore[attr-defined]
    return status, ours


class _Link:
    """The SMTP connection of one dispatch: opened when first needed, re-opened after a
    drop only if it had delivered something since it was opened."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._cm: AbstractContextManager[Connection] | None = None
        self.conn: Connection | None = None
        self.sent_since_open = 0
        self.reconnects = 0

    def open(self) -> Connection:
        if self.conn is None:
            cm = connect(self.settings)
            self.conn = cm.__enter__()
            self._cm = cm
            self.sent_since_open = 0
        return self.conn

    def close(self) -> None:
        if self._cm is not None:
            self._cm.__exit__(None, None, None)
        self._cm = None
        self.conn = None

    def may_reopen(self) -> bool:
        return self.sent_since_open > 0 and self.reconnects < MAX_RECONNECTS

    def send(self, envelope: Envelope) -> list[str]:
        """Send one envelope (returns refused recipients when others took it); after a drop
        on a productive connection, re-open and try once more."""
        try:
            refused = self.open().send(envelope)
        except ConnectError as exc:
            productive = self.may_reopen()
            self.close()
            if not productive:
                raise
            self.reconnects += 1
            logger.warning("SMTP connection lost (%s); reconnecting (%d)", exc, self.reconnects)
            refused = self.open().send(envelope)
        self.sent_since_open += 1
        return refused


def dispatch(
    *,
    settings: Settings,
    ids: list[int] | None = None,
    limit: int | None = None,
    respect_backoff: bool = True,
) -> DispatchReport:
    """Send pending outbox messages (or just ``ids``) over one SMTP connection; with
    ``respect_backoff`` only those whose wait after a failure has run out."""
    report = DispatchReport()
    token = uuid.uuid4().hex
    link = _Link(settings)
    broken: ConnectError | None = None  # the connection is gone for this dispatch
    left = limit
    after = 0
    try:
        while left is None or left > 0:
            batch, attachments = claim(
                token=token,
                settings=settings,
                limit=min(settings.outbox_batch, left or settings.outbox_batch),
                ids=ids,
                respect_backoff=respect_backoff,
                after=after,
            )
            if not batch:
                break
            after = batch[-1].id  # type: ignore[assignment]
            if left is not None:
                left -= len(batch)
            outcome: _Outcome | None = None
            for msg in batch:
                mid: int = msg.id  # type: ignore[assignment]
                status, ours = _settle(outcome, next_id=mid, token=token, settings=settings)
                _report(report, outcome, status)
                outcome = None
                if not ours:
                    logger.warning("outbox #%s was taken over by another dispatcher", mid)
                    continue
                if broken is not None:
                    outcome = _Outcome(mid, sent=False, error=str(broken))
                    continue
                try:
                    refused = link.send(_envelope(msg, attachments.get(mid, ()), settings))
                except ConnectError as exc:
                    broken = exc
                    outcome = _Outcome(mid, sent=False, error=str(exc))
                    logger.warning("SMTP connection failed: %s", exc)
                except SendError as exc:
                    outcome = _Outcome(mid, sent=False, error=str(exc), permanent=exc.permanent)
                    logger.warning("outbox #%s not sent: %s", mid, exc)
                else:
                    note = f"部分收件人被拒绝：{'; '.join(refused)}" if refused else None
                    outcome = _Outcome(mid, sent=True, error=note)
            status, _ = _settle(outcome, next_id=None, token=token, settings=settings)
            _report(report, outcome, status)
    finally:
        link.close()
    _count_waiting(report, ids)
    return report


def _report(report: DispatchReport, outcome: _Outcome | None, status: str | None) -> None:
    if outcome is None or status is None:
        return
    if outcome.sent:
        report.sent.append(outcome.id)
    elif status == OutboxStatus.failed:
        report.failed.append((outcome.id, outcome.error or ""))
    else:
        report.retry.append((outcome.id, outcome.error or ""))


def _count_waiting(report: DispatchReport, ids: list[int] | None) -> None:
    """Pending messages this dispatch did not try: their backoff has not run out."""
    tried = set(report.sent) | {i for i, _ in report.retry} | {i for i, _ in report.failed}
    with session_scope() as s:
        stmt = select(OutboxMessage.id, OutboxMessage.next_attempt_at).where(
            OutboxMessage.status == OutboxStatus.pending
        )
        if ids is not None:
            stmt = stmt.where(col(OutboxMessage.id).in_(ids))
        rows = [(i, t) for i, t in s.exec(stmt) if i not in tried]
    report.waiting = len(rows)
    times = [as_utc(t) for _, t in rows if t is not None]
    report.next_attempt = min(times) if times else None  # type: ignore[type-var]


def _envelope(
    msg: OutboxMessage, attachments: tuple[tuple[str, bytes, str], ...], settings: Settings
) -> Envelope:
    return Envelope(
        to=[msg.recipient],
        cc=tuple(msg.cc or ()),
        subject=msg.subject,
        html=msg.body_html,
        text=msg.body_text,
        message_id=message_id(msg, settings),
        attachments=attachments,
    )


def list_outbox(*, session: Session, status: str | None = None) -> list[OutboxMessage]:
    stmt = select(OutboxMessage)
    if status:
        stmt = stmt.where(OutboxMessage.status == status)
    return list(session.exec(stmt.order_by(col(OutboxMessage.id))))


def counts(*, session: Session) -> dict[str, int]:
    """Messages per status."""
    rows = session.exec(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    ).all()
    return {str(status): int(n) for status, n in rows}


def retry(*, session: Session, ids: list[int] | None) -> int:
    """Put failed (and waiting) messages back to pending, due now, attempts reset
    (all of them when ``ids`` is None)."""
    stmt = update(OutboxMessage).where(
        or_(
            col(OutboxMessage.status) == OutboxStatus.failed,
            col(OutboxMessage.status) == OutboxStatus.pending,
        )
    )
    if ids is not None:
        stmt = stmt.where(col(OutboxMessage.id).in_(ids))
    result = session.execute(
        stmt.values(status=OutboxStatus.pending, attempts=0, next_attempt_at=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
