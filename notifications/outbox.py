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

The outbox is in four modules: this one (the queue: enqueue, list, count, retry),
``notifications.outbox_claims`` (claims, leases, holders), ``notifications.outbox_send``
(``dispatch``: sending and recording outcomes) and ``notifications.outbox_report`` (what a
dispatch did and left, in Chinese).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, update
from sqlmodel import Session, col, select

from models.outbox import OutboxMessage, OutboxStatus
from models.unit import Unit
from zwgk.bulk import insert_rows
from zwgk.clock import utcnow


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


def list_outbox(*, session: Session, status: str | None = None) -> list[OutboxMessage]:
    stmt = select(OutboxMessage)
    if status:
        stmt = stmt.where(OutboxMessage.status == status)
    return list(session.exec(stmt.order_by(col(OutboxMessage.id))))


def _in_district(district: str):  # type: ignore[no-untyped-def]
    """Messages to the units of ``district`` (a message to no unit belongs to none)."""
    return col(OutboxMessage.unit_id).in_(select(Unit.id).where(Unit.district == district))


def counts(*, session: Session, district: str | None = None) -> dict[str, int]:
    """Messages per status (to ``district``'s units only, when given)."""
    stmt = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    if district is not None:
        stmt = stmt.where(_in_district(district))
    return {str(status): int(n) for status, n in session.exec(stmt).all()}


@dataclass
class OutboxPage:
    """One page of the outbox, newest first: each message with its unit's name and district
    (empty for a message to no unit), and how many match in all."""

    rows: list[tuple[OutboxMessage, str, str]]
    total: int


def outbox_page(
    *,
    session: Session,
    status: str | None = None,
    district: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> OutboxPage:
    """Messages (of ``status``, to ``district``'s units) newest first, ``limit`` from
    ``offset``: the workbench's paged list of an outbox that holds thousands."""
    where = []
    if status:
        where.append(col(OutboxMessage.status) == status)
    if district is not None:
        where.append(_in_district(district))
    total = session.exec(select(func.count()).select_from(OutboxMessage).where(*where)).one()
    stmt = (
        select(OutboxMessage, Unit.name, Unit.district)
        .join(Unit, col(Unit.id) == col(OutboxMessage.unit_id), isouter=True)
        .where(*where)
        .order_by(col(OutboxMessage.id).desc())
        .offset(offset)
        .limit(limit)
    )
    rows = [(m, name or "", d or "") for m, name, d in session.exec(stmt).all()]
    return OutboxPage(rows=rows, total=int(total))


def _retryable():  # type: ignore[no-untyped-def]
    """Failed, or waiting after a failed attempt (pending with attempts counted)."""
    return or_(
        col(OutboxMessage.status) == OutboxStatus.failed,
        (col(OutboxMessage.status) == OutboxStatus.pending) & (col(OutboxMessage.attempts) > 0),
    )


def retryable_ids(*, session: Session, district: str | None = None) -> list[int]:
    """What ``retry`` with ``ids=None`` would put back, to ``district``'s units only when
    given: the ids to retry and then dispatch."""
    stmt = select(OutboxMessage.id).where(_retryable())
    if district is not None:
        stmt = stmt.where(_in_district(district))
    return [int(i) for i in session.exec(stmt.order_by(col(OutboxMessage.id)))]  # type: ignore[arg-type]


def retry(*, session: Session, ids: list[int] | None) -> int:
    """Put failed and waiting messages (pending after a failed attempt) back to pending,
    due now, attempts reset (all of them when ``ids`` is None). One conditional UPDATE: a
    retry asked twice at once puts a message back once (the second finds attempts at 0)."""
    stmt = update(OutboxMessage).where(_retryable())
    if ids is not None:
        stmt = stmt.where(col(OutboxMessage.id).in_(ids))
    result = session.execute(
        stmt.values(status=OutboxStatus.pending, attempts=0, next_attempt_at=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
