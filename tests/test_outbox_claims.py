"""Who holds a claim on outbox mail, and when another dispatcher may take it over.

Real parts only: a real SQLite file (or PostgreSQL with ``--db postgresql``), a real SMTP
server on loopback, real processes killed with SIGKILL. The lease is moved by writing the
claim's time in the database, not by sleeping it out.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from models import OutboxMessage
from notifications.outbox_claims import claim, holder, holder_alive
from notifications.outbox_report import DispatchReport, Held
from notifications.outbox_send import dispatch
from tests.cli import run_subprocess
from tests.factories import queue_messages
from tests.smtpd import SMTPServer
from zwgk.clock import as_utc, utcnow
from zwgk.config import get_settings, reset_settings
from zwgk.db import session_scope

pytestmark = pytest.mark.smtp

HOST = socket.gethostname()


def _rows() -> list[OutboxMessage]:
    with session_scope() as s:
        return list(s.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))))


def _start(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "zwgk.cli", *args],
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=10)  # reaped: no zombie left to look alive


# --------------------------------------------------------------------------- process identity


def test_a_holder_on_this_machine_is_alive_until_its_process_is_gone() -> None:
    by, process = holder()
    assert by == f"{HOST}:{os.getpid()}" and process
    assert holder_alive(by, process) is True
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        other = holder(sleeper.pid)
        assert holder_alive(*other) is True
    finally:
        sleeper.kill()
        sleeper.wait(10)
    assert holder_alive(*other) is False
    # The same pid, a process started at another time: its pid was reused, the holder is gone.
    machine, _, start = process.rpartition("/")
    assert holder_alive(by, f"{machine}/{int(start) + 1}") is False
    # Another machine (or container): cannot tell, only the lease counts.
    assert holder_alive("elsewhere:4242", "other-boot/pid:[1]/99") is None
    assert holder_alive(None, None) is None


def test_the_report_says_what_is_left_and_when_in_chinese() -> None:
    report = DispatchReport(
        sent=[1],
        recovered={"h:1": 2, "": 1},
        queued=3,
        held=[Held("x:123", 3, datetime(2026, 11, 30, 6, 5, 30, tzinfo=UTC))],
        waiting=2,
        next_attempt=datetime(2026, 11, 30, 6, 5, tzinfo=UTC),
    )
    assert report.summary().split("；") == [
        "已发送 1 封",
        "接管已中断的发送进程（主机 h，进程 1）遗留的 2 封（其中至多 1 封可能重复送达）",
        "接管已中断的发送进程遗留的 1 封（其中至多 1 封可能重复送达）",
        "另有 3 封排队待发，下次运行时发送",
        "另有 3 封正由另一发送进程（主机 x，进程 123）发送，"
        "该进程如已中断，11月30日 14:05:30 后由下次运行接续发送",
        "另有 2 封等待重试，最早 11月30日 14:05 重发",
    ]
    assert DispatchReport.from_dict(json.loads(json.dumps(report.as_dict()))) == report
    assert DispatchReport(sent=[1, 2]).summary() == "已发送 2 封"


# --------------------------------------------------------------------------- another machine


def _claim_elsewhere(n: int) -> None:
    claim(
        token="elsewhere",
        settings=get_settings(),
        limit=n,
        by=("elsewhere:4242", "other-boot/pid:[4026531836]/99"),
    )


def _age_claims(seconds: float) -> None:
    with session_scope() as s:
        s.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.claim_token) == "elsewhere")
            .values(claimed_at=utcnow() - timedelta(seconds=seconds))
        )


def test_a_claim_from_another_machine_is_taken_over_only_after_its_lease(
    env: Path, smtp: SMTPServer
) -> None:
    assert get_settings().outbox_lease_seconds == 60
    queue_messages(5)
    _claim_elsewhere(3)
    report = dispatch(settings=get_settings())
    assert len(report.sent) == 2 and not report.recovered
    [held] = report.held
    assert (held.by, held.count) == ("elsewhere:4242", 3)
    claimed_at = as_utc(_rows()[0].claimed_at)
    assert held.lease_until == claimed_at + timedelta(seconds=60)  # type: ignore[operator]
    summary = report.summary()
    assert "另有 3 封正由另一发送进程（主机 elsewhere，进程 4242）发送" in summary, summary
    assert re.search(r"该进程如已中断，\d+月\d+日 \d\d:\d\d:\d\d 后由下次运行接续发送", summary)
    out = run_subprocess("outbox", "list", "--status", "sending").out
    assert out.count("主机 elsewhere，进程 4242，最近续期") == 3
    # 59 s without renewal: still its own.
    _age_claims(59)
    assert dispatch(settings=get_settings()).sent == []
    assert {r.claim_token for r in _rows()[:3]} == {"elsewhere"}
    # 61 s: the lease has run out; the next dispatch takes the messages over and sends them.
    _age_claims(61)
    report = dispatch(settings=get_settings())
    assert len(report.sent) == 3 and report.recovered == {"elsewhere:4242": 3}
    assert (
        not report.held and "接管已中断的发送进程（主机 elsewhere，进程 4242）" in report.summary()
    )
    assert {r.status for r in _rows()} == {"sent"}
    assert Counter(smtp.subjects()).most_common(1)[0][1] == 1 and len(smtp.messages) == 5


def test_a_claim_from_before_holders_were_recorded_waits_for_its_lease(
    env: Path, smtp: SMTPServer
) -> None:
    """Rows an older zwgk left 'sending' (no holder recorded): only the lease frees them."""
    queue_messages(2)
    with session_scope() as s:
        s.execute(
            update(OutboxMessage).values(
                status="sending", claim_token="elsewhere", claimed_at=utcnow()
            )
        )
    report = dispatch(settings=get_settings())
    assert report.sent == [] and [(h.by, h.count) for h in report.held] == [(None, 2)]
    assert "另有 2 封正由另一发送进程发送，该进程如已中断" in report.summary()
    _age_claims(61)
    report = dispatch(settings=get_settings())
    assert len(report.sent) == 2 and report.recovered == {"": 2}
    assert len(smtp.messages) == 2


# --------------------------------------------------------------------------- a live dispatcher


def test_a_live_dispatchers_claims_are_reported_as_held_not_taken(
    env: Path, smtp: SMTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dispatcher stuck on one slow message keeps its whole batch (its heartbeat renews
    the lease); a second dispatcher sends the rest and says who holds what."""
    queue_messages(15)
    lease = {"ZWGK_OUTBOX_LEASE_SECONDS": "1", "ZWGK_SMTP_TIMEOUT": "30"}
    for k, v in lease.items():
        monkeypatch.setenv(k, v)
    reset_settings()
    smtp.recorder.behaviour.hold_data = 0  # the first message kept, its reply held back
    first = _start("outbox", "send")
    try:
        assert smtp.recorder.behaviour.held.wait(60), "the first dispatcher never sent"
        time.sleep(1.5)  # longer than the lease: only the heartbeat keeps the claims
        second = run_subprocess("outbox", "send")
        rows = _rows()
    finally:
        smtp.recorder.behaviour.release.set()
    out, err = first.communicate(timeout=60)
    assert first.returncode == 0 and "已发送 10 封" in out, (out, err)
    assert second.code == 0, second.err
    assert "已发送 5 封" in second.out
    assert f"另有 10 封正由另一发送进程（主机 {HOST}，进程 {first.pid}）发送" in second.out
    held = [r for r in rows if r.status == "sending"]
    assert [r.id for r in held] == list(range(1, 11))  # one batch of 10
    assert {r.claimed_by for r in held} == {f"{HOST}:{first.pid}"}
    assert {r.status for r in _rows()} == {"sent"}
    counts = Counter(smtp.subjects())
    assert len(counts) == 15 and set(counts.values()) == {1}


def test_an_interrupted_dispatcher_puts_its_claims_back(env: Path, smtp: SMTPServer) -> None:
    """Ctrl-C while a message is in flight: what the dispatcher holds goes back to the queue
    as it exits (nothing left 'sending'); the next dispatch sends it, the one in flight again."""
    queue_messages(5)
    smtp.recorder.behaviour.hold_data = 1
    proc = _start("outbox", "send", env={"ZWGK_SMTP_TIMEOUT": "30"})
    try:
        assert smtp.recorder.behaviour.held.wait(60), "the dispatcher never reached message 1"
        proc.send_signal(signal.SIGINT)
        # Put back before the connection's close (which waits for the held reply).
        deadline = time.monotonic() + 30
        while any(r.status == "sending" for r in _rows()):
            assert time.monotonic() < deadline, "the interrupted dispatcher kept its claims"
            time.sleep(0.05)
    finally:
        smtp.recorder.behaviour.release.set()
    out, err = proc.communicate(timeout=30)
    assert proc.returncode != 0 and "Traceback" not in err, err
    rows = _rows()
    assert [r.status for r in rows] == ["sent"] + ["pending"] * 4
    assert all(r.claimed_by is None and r.claim_token is None for r in rows)
    report = dispatch(settings=get_settings())
    assert len(report.sent) == 4 and not report.recovered and not report.held
    by_id = Counter(m.message["Message-ID"] for m in smtp.messages)
    assert len(by_id) == 5 and sorted(by_id.values()) == [1, 1, 1, 1, 2]


# --------------------------------------------------------------------------- the issue


@pytest.mark.prefect
@pytest.mark.usefixtures("prefect_harness")
def test_a_run_killed_after_its_first_mail_then_rerun_at_once_delivers_all_43(
    sample_directory: str, smtp: SMTPServer
) -> None:
    """``zwgk run monthly-filing`` killed (SIGKILL) right after the server received its
    first mail; the rerun straight after delivers all 50, the one in flight at most twice
    (with one Message-ID), and says what it took over."""
    from prefect.settings import PREFECT_API_URL

    api = {"PREFECT_API_URL": str(PREFECT_API_URL.value()), "PREFECT_LOGGING_LEVEL": "WARNING"}
    args = ("run", "monthly-filing", "--period", "2026-11")
    smtp.recorder.behaviour.hold_data = 0  # kept by the server, the reply not yet sent
    killed = _start(*args, env=api)
    try:
        assert smtp.recorder.behaviour.held.wait(180), killed.communicate(timeout=5)
    finally:
        _kill(killed)
    smtp.recorder.behaviour.release.set()
    assert len(smtp.messages) == 1
    statuses = Counter(r.status for r in _rows())
    assert statuses == {"sending": 10, "pending": 40}, statuses  # one small batch claimed
    started = time.monotonic()
    rerun = run_subprocess(*args, env=api)
    took = time.monotonic() - started
    assert rerun.code == 0, rerun.err
    assert "新建事项 0 条，已有 50 条；发送通知 50 封；" in rerun.out, rerun.out
    assert f"接管已中断的发送进程（主机 {HOST}，进程 {killed.pid}）遗留的 10 封" in rerun.out
    rows = _rows()
    assert len(rows) == 50 and {r.status for r in rows} == {"sent"}
    by_id = Counter(m.message["Message-ID"] for m in smtp.messages)
    assert len(by_id) == 50 and sum(by_id.values()) <= 51
    assert [n for n in by_id.values() if n > 1] in ([], [2])
    assert len({tuple(m.rcpt_tos) for m in smtp.messages}) == 50
    print(f"\nrerun after the kill: {len(smtp.messages)} received for 50 rows in {took:.1f} s")


def test_an_outcome_is_not_recorded_over_a_claim_taken_over_meanwhile(env: Path) -> None:
    """A dispatcher whose lease ran out while it sent (a stalled database) must not write its
    result over the row another dispatcher took over and sent: that would turn "sent" back
    into "pending" and send it once more."""
    from notifications.outbox_send import _Outcome, _settle

    queue_messages(1)
    _claim_elsewhere(1)  # the slow one
    [row] = _rows()
    with session_scope() as s:  # taken over and sent by another dispatcher meanwhile
        s.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == row.id)
            .values(status="sent", claim_token=None, claimed_by=None, sent_at=utcnow())
        )
    status, _ = _settle(
        _Outcome(row.id, sent=False, error="超时"),  # type: ignore[arg-type]
        next_id=None,
        token="elsewhere",
        settings=get_settings(),
    )
    assert status is None
    [after] = _rows()
    assert (after.status, after.attempts, after.last_error) == ("sent", 0, None)
