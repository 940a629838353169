"""The outbox (发件箱): enqueue once per purpose; dispatch so that nothing is lost or doubled.

* ``enqueue`` inserts a message under a unique ``key`` (e.g. the assignment of one
  obligation period to one unit); enqueueing the same key again does nothing, so a rerun
  never mails twice, and two runs at once collide on the unique key (one of them retries,
  see ``zwgk.db.transact``).
* ``dispatch`` claims due ``pending`` rows in small batches (``ZWGK_OUTBOX_BATCH``, 10) with
  one conditional UPDATE (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), stamping them with its
  token and who holds them (``claimed_by`` "host:pid"; ``claim_process``, the process's boot,
  pid namespace and start time), so each row goes to one dispatcher even with several
  workers at once, and a small batch leaves the rest to the others.
* The claim is a lease (``ZWGK_OUTBOX_LEASE_SECONDS``, 60 s): renewed on the row about to be
  sent in the same commit that records the previous message's outcome (one commit per
  message, made right after the server accepted it), and on the whole batch every quarter
  lease by a heartbeat thread while the batch is being sent (a slow server). A row whose
  claim was taken over is skipped.
* Before each claim, rows held by a dispatcher that is gone go back to ``pending``: at once
  when it ran on this machine (same boot and pid namespace) and its process no longer
  exists, or its pid now belongs to a process started at another time; when it ran
  elsewhere (we cannot see its process), once its lease has not been renewed for
  ``ZWGK_OUTBOX_LEASE_SECONDS``. A dispatch that ends by an exception (Ctrl-C) puts back
  what it still holds itself.
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
* The report of a dispatch says, besides what it sent and what failed, what it took over
  from a dispatcher that was gone, and what is left and when it goes: queued and not tried,
  held by another dispatcher (who, and when its lease runs out), waiting for its backoff
  (the earliest time).

What can be doubled: only the one message in flight when the process is killed, or when
the connection dies after the message's data went out but before the server's reply
(SMTP cannot tell whether the server kept it). It stays ``sending`` until the next
dispatch sees its holder gone (on the same machine at once, from another after the lease),
then is sent again with the same ``Message-ID``, which lets mail clients show it once.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import uuid
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from models.outbox import OutboxAttachment, OutboxMessage, OutboxStatus
from notifications.smtp import ConnectError, Connection, Envelope, SendError, connect
from zwgk.bulk import insert_rows
from zwgk.clock import as_utc, utcnow
from zwgk.config import Settings
from zwgk.db import session_scope

logger = logging.getLogger(f"zwgk.{__name__}")  # one hierarchy for the CLI to quiet

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
        OutboxMessage.__table__,  # type: ignore[attr-defined]
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
class Held:
    """Messages another dispatcher holds (发送中): who, how many, until when its lease runs."""

    by: str | None  # "host:pid"; None for a claim made before holders were recorded
    count: int
    lease_until: datetime | None  # if that dispatcher is gone, the next run after this sends them


@dataclass
class DispatchReport:
    sent: list[int] = field(default_factory=list)
    retry: list[tuple[int, str]] = field(default_factory=list)  # still pending, with error
    failed: list[tuple[int, str]] = field(default_factory=list)  # given up
    # Taken over from dispatchers that were gone: "host:pid" → how many of their claims.
    recovered: dict[str, int] = field(default_factory=dict)
    queued: int = 0  # pending and due, not tried by this dispatch (queued or freed meanwhile)
    held: list[Held] = field(default_factory=list)  # being sent by other dispatchers
    waiting: int = 0  # pending from earlier failures, not yet due again (backoff)
    next_attempt: datetime | None = None  # when the first of those is due

    @property
    def ok(self) -> bool:
        return not self.retry and not self.failed

    def notes(self) -> list[str]:
        """What else happened and what is left, in Chinese, one clause each (none when the
        dispatch took nothing over and left nothing behind)."""
        out = []
        for by, n in self.recovered.items():
            who = f"（{holder_name(by)}）" if by else ""
            out.append(f"接管已中断的发送进程{who}遗留的 {n} 封（其中至多 1 封可能重复送达）")
        if self.queued:
            out.append(f"另有 {self.queued} 封排队待发，下次运行时发送")
        for h in self.held:
            who = f"（{holder_name(h.by)}）" if h.by else ""
            until = (
                f"，该进程如已中断，{shanghai_time(h.lease_until, seconds=True)} 后由下次运行接续发送"
                if h.lease_until
                else ""
            )
            out.append(f"另有 {h.count} 封正由另一发送进程{who}发送{until}")
        if self.waiting:
            when = f"，最早 {shanghai_time(self.next_attempt)} 重发" if self.next_attempt else ""
            out.append(f"另有 {self.waiting} 封等待重试{when}")
        return out

    def summary(self) -> str:
        parts = [f"已发送 {len(self.sent)} 封"]
        if self.retry:
            parts.append(f"{len(self.retry)} 封暂未发出（稍后自动重试）")
        if self.failed:
            parts.append(f"{len(self.failed)} 封发送失败（不再重试）")
        return "；".join(["，".join(parts), *self.notes()])

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

    def as_dict(self) -> dict[str, Any]:
        """Plain data (times as ISO strings): what a flow's task returns."""
        return {
            "sent": list(self.sent),
            "retry": [list(x) for x in self.retry],
            "failed": [list(x) for x in self.failed],
            "recovered": dict(self.recovered),
            "queued": self.queued,
            "held": [
                {"by": h.by, "count": h.count, "lease_until": _iso(h.lease_until)}
                for h in self.held
            ],
            "waiting": self.waiting,
            "next_attempt": _iso(self.next_attempt),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DispatchReport:
        return cls(
            sent=list(d.get("sent", [])),
            retry=[(int(i), str(e)) for i, e in d.get("retry", [])],
            failed=[(int(i), str(e)) for i, e in d.get("failed", [])],
            recovered=dict(d.get("recovered", {})),
            queued=int(d.get("queued", 0)),
            held=[
                Held(h["by"], int(h["count"]), _from_iso(h.get("lease_until")))
                for h in d.get("held", [])
            ],
            waiting=int(d.get("waiting", 0)),
            next_attempt=_from_iso(d.get("next_attempt")),
        )


def holder_name(by: str) -> str:
    """The holder for the user: "host:pid" → 主机 host，进程 pid."""
    host, _, pid = by.rpartition(":")
    return f"主机 {host}，进程 {pid}" if host else by


def shanghai_time(when: datetime | None, *, seconds: bool = False) -> str:
    """A time for the user: Shanghai time, "11月30日 14:05" (with ":30" seconds)."""
    if when is None:
        return ""
    t = as_utc(when).astimezone(ZoneInfo("Asia/Shanghai"))  # type: ignore[union-attr]
    return f"{t.month}月{t.day}日 {t:%H:%M:%S}" if seconds else f"{t.month}月{t.day}日 {t:%H:%M}"


def _iso(when: datetime | None) -> str | None:
    return as_utc(when).isoformat() if when is not None else None  # type: ignore[union-attr]


def _from_iso(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


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


# --------------------------------------------------------------------------- who holds a claim


@lru_cache(maxsize=1)
def _machine() -> str | None:
    """Where pids mean what they mean to us: "<boot id>/<pid namespace>"; None off Linux."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        return f"{boot}/{os.readlink('/proc/self/ns/pid')}"
    except OSError:
        return None


def _started(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks after boot); None when it is gone (or a
    zombie, killed and not yet reaped) or there is no ``/proc``."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()  # after "pid (comm)": state is field 3
    if len(fields) < 20 or fields[0] in ("Z", "X", "x"):
        return None
    return fields[19]  # field 22, starttime


def holder(pid: int | None = None) -> tuple[str, str | None]:
    """(``claimed_by``, ``claim_process``) of process ``pid`` (default: this one)."""
    pid = pid or os.getpid()
    machine, start = _machine(), _started(pid)
    identity = f"{machine}/{start}" if machine and start else None
    return f"{socket.gethostname()}:{pid}", identity


def holder_alive(claimed_by: str | None, claim_process: str | None) -> bool | None:
    """Whether the process holding a claim still runs: True or False for one on this machine
    (same boot and pid namespace); None when we cannot tell (another machine or container, no
    ``/proc``, a claim from before holders were recorded): then only its lease counts."""
    machine = _machine()
    if not claimed_by or not claim_process or machine is None:
        return None
    where, _, start = claim_process.rpartition("/")
    if where != machine:
        return None
    try:
        pid = int(claimed_by.rpartition(":")[2])
    except ValueError:
        return None
    return _started(pid) == start


def _same(column: Any, value: str | None) -> Any:
    return col(column).is_(None) if value is None else col(column) == value


# A row back in the queue, held by nobody.
_FREE: dict[str, Any] = {
    "status": OutboxStatus.pending,
    "claim_token": None,
    "claimed_at": None,
    "claimed_by": None,
    "claim_process": None,
}


def release_stale(*, settings: Settings) -> dict[str, int]:
    """Put back to ``pending`` the rows held by dispatchers that are gone: at once when the
    holder ran on this machine and its process is gone (never while it runs), else (another
    machine, or no ``/proc``) once its lease has run out.
    Returns how many per holder ("host:pid"; "" for claims made before holders were kept)."""
    now = utcnow()
    cutoff = now - timedelta(seconds=settings.outbox_lease_seconds)
    released: dict[str, int] = {}
    with session_scope() as s:
        holders = s.exec(
            select(
                OutboxMessage.claimed_by,
                OutboxMessage.claim_process,
                func.min(OutboxMessage.claimed_at),
            )
            .where(OutboxMessage.status == OutboxStatus.sending)
            .group_by(col(OutboxMessage.claimed_by), col(OutboxMessage.claim_process))
        ).all()
        for by, process, oldest in holders:
            stmt = (
                update(OutboxMessage)
                .where(col(OutboxMessage.status) == OutboxStatus.sending)
                .where(_same(OutboxMessage.claimed_by, by))
                .where(_same(OutboxMessage.claim_process, process))
            )
            alive = holder_alive(by, process)
            if alive is False:
                why = "its process is gone"
            elif alive is True:
                continue  # on this machine and running: /proc says more than a late renewal
            elif oldest is not None and as_utc(oldest) < cutoff:  # type: ignore[operator]
                why = "its lease ran out"
                stmt = stmt.where(col(OutboxMessage.claimed_at) < cutoff)
            else:
                continue
            n = int(s.execute(stmt.values(**_FREE)).rowcount)  # type: ignore[attr-defined]
            if n:
                released[by or ""] = released.get(by or "", 0) + n
                logger.warning("outbox: took back %d messages held by %s (%s)", n, by, why)
    return released


def claim(
    *,
    token: str,
    settings: Settings,
    limit: int,
    ids: list[int] | None = None,
    respect_backoff: bool = True,
    after: int = 0,
    by: tuple[str, str | None] | None = None,
) -> tuple[list[OutboxMessage], dict[int, tuple[tuple[str, bytes, str], ...]]]:
    """Claim up to ``limit`` due pending rows with ids above ``after`` for ``token``
    (status → sending, held by ``by``, default this process); one dispatch moves ``after``
    forward so it tries each row once.

    Returns the rows and their attachments. Each row goes to exactly one dispatcher: the
    UPDATE only takes rows still ``pending``, atomically per row on both databases.
    """
    now = utcnow()
    claimed_by, claim_process = by or holder()
    with session_scope() as s:
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
        target = col(OutboxMessage.id).in_(pick)
        if s.get_bind().dialect.name == "postgresql":
            # Lock the ids first, then update them: inside the UPDATE, PostgreSQL may run a
            # LIMIT … FOR UPDATE SKIP LOCKED subquery again per row, skipping the rows the
            # statement just changed, and so claim far more than ``limit``.
            picked = list(s.exec(pick.with_for_update(skip_locked=True)))
            if not picked:
                return [], {}
            target = col(OutboxMessage.id).in_(picked)
        s.execute(
            update(OutboxMessage)
            .where(target)
            .where(col(OutboxMessage.status) == OutboxStatus.pending)
            .values(
                status=OutboxStatus.sending,
                claim_token=token,
                claimed_at=now,
                claimed_by=claimed_by,
                claim_process=claim_process,
            )
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


def _renew(token: str) -> int:
    """Renew the lease on every row ``token`` still holds."""
    with session_scope() as s:
        result = s.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.claim_token) == token)
            .where(col(OutboxMessage.status) == OutboxStatus.sending)
            .values(claimed_at=utcnow())
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


def _release(token: str) -> int:
    """Put back to ``pending`` what ``token`` still holds (a dispatch ending by an exception)."""
    with session_scope() as s:
        result = s.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.claim_token) == token)
            .where(col(OutboxMessage.status) == OutboxStatus.sending)
            .values(**_FREE)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


class _Heartbeat:
    """Renews a dispatch's claims every quarter lease while it sends, so a slow message does
    not let the lease on it (or on the rest of its batch) run out."""

    def __init__(self, token: str, settings: Settings) -> None:
        self.token = token
        self.interval = settings.outbox_lease_seconds / 4
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox-lease", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                _renew(self.token)
            except Exception as exc:  # the next beat tries again; the lease has some slack
                logger.warning("outbox: could not renew the claim: %s", exc)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


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
            status = _record(s, outcome, token=token, now=now, settings=settings)
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


def _record(
    s: Session, outcome: _Outcome, *, token: str, now: datetime, settings: Settings
) -> str | None:
    """Write ``outcome`` on its row while the claim is still ``token``'s (one UPDATE; the
    bodies are not read again); returns the row's new status, None when it was taken over
    meanwhile (our lease ran out while the database or the server stalled: the row is
    someone else's now, and recording our outcome would undo theirs, a "sent" turned back
    into "pending" going out once more)."""
    ours = (
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == outcome.id)
        .where(col(OutboxMessage.claim_token) == token)
    )
    values: dict[str, Any] = {
        "attempts": OutboxMessage.attempts + 1,  # type: ignore[operator]
        "last_error": outcome.error,
        "claimed_at": None,
        "claim_token": None,
        "claimed_by": None,
        "claim_process": None,
    }
    if outcome.sent:
        status = OutboxStatus.sent
        values.update(status=status, sent_at=now, next_attempt_at=None)
    else:  # rare: how many attempts so far decides between a retry and giving up
        attempts = s.exec(
            select(OutboxMessage.attempts)
            .where(col(OutboxMessage.id) == outcome.id)
            .where(col(OutboxMessage.claim_token) == token)
        ).first()
        if attempts is None:
            status = None
        else:
            give_up = outcome.permanent or attempts + 1 >= settings.max_send_attempts
            status = OutboxStatus.failed if give_up else OutboxStatus.pending
            later = None if give_up else now + backoff(attempts + 1, settings)
            values.update(status=status, next_attempt_at=later)
    if status is None or s.execute(ours.values(**values)).rowcount != 1:  # type: ignore[attr-defined]
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
        with _Heartbeat(token, settings):
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
            if n := _release(token):
                logger.warning("outbox: put back %d claimed messages not sent", n)
        except Exception as exc:
            logger.warning("outbox: could not put back the claimed messages: %s", exc)
        link.close()
    _count_left(report, ids, token=token, settings=settings)
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


def _count_left(
    report: DispatchReport, ids: list[int] | None, *, token: str, settings: Settings
) -> None:
    """What this dispatch did not try and what stops it: queued (due, not reached), held by
    another dispatcher (until when its lease runs), waiting for its backoff (until when)."""
    tried = set(report.sent) | {i for i, _ in report.retry} | {i for i, _ in report.failed}
    now = utcnow()
    lease = timedelta(seconds=settings.outbox_lease_seconds)
    with session_scope() as s:
        stmt = sa_select(
            col(OutboxMessage.id),
            col(OutboxMessage.status),
            col(OutboxMessage.next_attempt_at),
            col(OutboxMessage.claim_token),
            col(OutboxMessage.claimed_by),
            col(OutboxMessage.claimed_at),
        ).where(col(OutboxMessage.status).in_([OutboxStatus.pending, OutboxStatus.sending]))
        if ids is not None:
            stmt = stmt.where(col(OutboxMessage.id).in_(ids))
        rows = [tuple(r) for r in s.execute(stmt) if r[0] not in tried]
    times = []
    held: dict[str | None, Held] = {}
    for _, status, next_at, claim_token, by, claimed_at in rows:
        if status == OutboxStatus.pending:
            if next_at is not None and as_utc(next_at) > now:  # type: ignore[operator]
                report.waiting += 1
                times.append(as_utc(next_at))
            else:
                report.queued += 1
        elif claim_token != token:
            h = held.setdefault(by, Held(by, 0, None))
            h.count += 1
            start = as_utc(claimed_at)
            if start is not None:
                h.lease_until = max(h.lease_until or start + lease, start + lease)
    report.held = sorted(held.values(), key=lambda h: h.by or "")
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
