"""Sending the outbox: ``dispatch`` claims rows in batches, sends each over one SMTP
connection and records its outcome in the same commit that renews the claim on the next
(see :mod:`notifications.outbox` for what can and cannot be doubled)."""

from __future__ import annotations

import hashlib
import logging
import uuid
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection as DbConnection
from sqlalchemy import bindparam, select, update

from models.outbox import OutboxMessage, OutboxStatus
from notifications.outbox_claims import Heartbeat, claim, holder, release, release_stale
from notifications.outbox_report import DispatchReport, count_left
from notifications.smtp import ConnectError, Connection, Envelope, SendError, connect
from zwgk.clock import utcnow
from zwgk.config import Settings
from zwgk.db import get_engine

logger = logging.getLogger("zwgk.notifications.outbox")  # one logger for the outbox's modules

MAX_RECONNECTS = 3
MAX_BACKOFF = timedelta(hours=6)


def message_id(msg: OutboxMessage, settings: Settings) -> str:
    """Stable per outbox row: a message sent again after a kill carries the same id."""
    digest = hashlib.sha1(msg.key.encode()).hexdigest()[:16]
    domain = settings.mail_from.rsplit("@", 1)[-1].strip(" >") or "zwgk.local"
    return f"<zwgk-{msg.id}-{digest}@{domain}>"


def backoff(attempts: int, settings: Settings) -> timedelta:
    """Wait before the next automatic attempt after ``attempts`` failed ones."""
    seconds = settings.send_backoff_seconds * 2 ** max(attempts - 1, 0)
    return min(timedelta(seconds=seconds), MAX_BACKOFF)


@dataclass(frozen=True)
class _Outcome:
    id: int
    sent: bool
    error: str | None = None  # why not sent; for a sent one, the recipients refused
    permanent: bool = False


# The statements of a settle, built once: one per message sent makes their construction
# (and the ORM session around them) a measurable share of a large dispatch.
_TABLE = OutboxMessage.__table__  # type: ignore[attr-defined]
_T = _TABLE.c
_HELD = (_T.id == bindparam("oid")) & (_T.claim_token == bindparam("token"))
_LET_GO = {"claimed_at": None, "claim_token": None, "claimed_by": None, "claim_process": None}
_SENT = (
    update(_TABLE)
    .where(_HELD)
    .values(
        attempts=_T.attempts + 1,
        last_error=bindparam("error"),
        status=OutboxStatus.sent,
        sent_at=bindparam("now"),
        next_attempt_at=None,
        **_LET_GO,
    )
)
_NOT_SENT = (
    update(_TABLE)
    .where(_HELD)
    .values(
        attempts=_T.attempts + 1,
        last_error=bindparam("error"),
        status=bindparam("status"),
        next_attempt_at=bindparam("later"),
        **_LET_GO,
    )
)
_ATTEMPTS = select(_T.attempts).where(_HELD)
_RENEW = (
    update(_TABLE)
    .where(_HELD)
    .where(_T.status == OutboxStatus.sending)
    .values(claimed_at=bindparam("now"))
)


def _settle(
    outcome: _Outcome | None, *, next_id: int | None, token: str, settings: Settings
) -> tuple[str | None, bool]:
    """In one commit: record ``outcome`` and renew the claim on ``next_id``.

    Returns (the recorded row's new status, whether ``next_id`` is still ours to send).
    """
    now = utcnow()
    status: str | None = None
    ours = False
    with get_engine().begin() as conn:
        if outcome is not None:
            status = _record(conn, outcome, token=token, now=now, settings=settings)
        if next_id is not None:
            renewed = conn.execute(_RENEW, {"oid": next_id, "token": token, "now": now})
            ours = renewed.rowcount == 1
    return status, ours


def _record(
    conn: DbConnection, outcome: _Outcome, *, token: str, now: datetime, settings: Settings
) -> str | None:
    """Write ``outcome`` on its row while the claim is still ``token``'s (one UPDATE; the
    bodies are not read again); returns the row's new status, None when it was taken over
    meanwhile (our lease ran out while the database or the server stalled: the row is
    someone else's now, and recording our outcome would undo theirs, a "sent" turned back
    into "pending" going out once more)."""
    held = {"oid": outcome.id, "token": token}
    status: str | None
    if outcome.sent:
        status = OutboxStatus.sent
        done = conn.execute(_SENT, {**held, "error": outcome.error, "now": now})
    else:  # rare: how many attempts so far decides between a retry and giving up
        attempts = conn.execute(_ATTEMPTS, held).scalar()
        if attempts is None:
            status, done = None, None
        else:
            give_up = outcome.permanent or attempts + 1 >= settings.max_send_attempts
            status = OutboxStatus.failed if give_up else OutboxStatus.pending
            later = None if give_up else now + backoff(attempts + 1, settings)
            done = conn.execute(
                _NOT_SENT, {**held, "error": outcome.error, "status": status, "later": later}
            )
    if done is None or done.rowcount != 1:
        logger.warning("outbox #%s: claim taken over before its outcome was recorded", outcome.id)
        return None
    return str(status)


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
    me = holder()
    link = _Link(settings)
    broken: ConnectError | None = None  # the connection is gone for this dispatch
    left = limit
    after = 0
    try:
        with Heartbeat(token, settings):
            while left is None or left > 0:
                for by, n in release_stale(settings=settings).items():
                    report.recovered[by] = report.recovered.get(by, 0) + n
                batch, attachments = claim(
                    token=token,
                    settings=settings,
                    limit=min(settings.outbox_batch, left or settings.outbox_batch),
                    ids=ids,
                    respect_backoff=respect_backoff,
                    after=after,
                    by=me,
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
        # After an exception (Ctrl-C) what we still hold goes back to the queue, first: the
        # polite close of a connection interrupted mid-message may wait for a reply.
        try:
            if n := release(token):
                logger.warning("outbox: put back %d claimed messages not sent", n)
        except Exception as exc:
            logger.warning("outbox: could not put back the claimed messages: %s", exc)
        link.close()
    count_left(report, ids, token=token, settings=settings)
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
