"""What a dispatch did and what it left (``DispatchReport``), in the user's words."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select as sa_select
from sqlmodel import col

from models.outbox import OutboxMessage, OutboxStatus
from zwgk.clock import as_utc, utcnow
from zwgk.config import Settings
from zwgk.db import session_scope


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


def count_left(
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
