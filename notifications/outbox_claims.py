"""Outbox claims: which dispatcher holds which rows, for how long, and taking them back.

``claim`` takes due ``pending`` rows for one dispatch token (a lease, ``claimed_at``);
``Heartbeat`` and ``renew`` keep the lease, ``release`` gives the rows back, ``release_stale``
takes back rows whose holder is gone (see :mod:`notifications.outbox`).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, update
from sqlmodel import col, select

from models.outbox import OutboxAttachment, OutboxMessage, OutboxStatus
from zwgk.clock import as_utc, utcnow
from zwgk.config import Settings
from zwgk.db import session_scope

logger = logging.getLogger("zwgk.notifications.outbox")  # one logger for the outbox's modules


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


def renew(token: str) -> int:
    """Renew the lease on every row ``token`` still holds."""
    with session_scope() as s:
        result = s.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.claim_token) == token)
            .where(col(OutboxMessage.status) == OutboxStatus.sending)
            .values(claimed_at=utcnow())
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


def release(token: str) -> int:
    """Put back to ``pending`` what ``token`` still holds (a dispatch ending by an exception)."""
    with session_scope() as s:
        result = s.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.claim_token) == token)
            .where(col(OutboxMessage.status) == OutboxStatus.sending)
            .values(**_FREE)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


class Heartbeat:
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
                renew(self.token)
            except Exception as exc:  # the next beat tries again; the lease has some slack
                logger.warning("outbox: could not renew the claim: %s", exc)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
