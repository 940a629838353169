"""Mail faults against a real SMTP server on loopback (aiosmtpd made to misbehave).

For every fault the same ledger must hold at the end: every outbox row is ``sent``, or
``failed`` with the server's reason; the server received every sent message exactly once.
The one documented exception: the single message in flight when the client dies (killed,
or the connection lost after the message's data went out) may arrive twice.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from models import OutboxMessage
from notifications.outbox_send import dispatch
from tests.cli import run_subprocess
from tests.factories import queue_messages
from tests.smtpd import SMTPServer, free_port
from zwgk.clock import as_utc, frozen
from zwgk.config import get_settings, reset_settings
from zwgk.db import session_scope

pytestmark = pytest.mark.smtp


def _rows() -> list[OutboxMessage]:
    with session_scope() as s:
        return list(s.exec(select(OutboxMessage).order_by(OutboxMessage.id)))


def _subject(i: int) -> str:
    return f"【政务公开】新增非密公文全量备案 第{i}号"


def _assert_ledger(smtp: SMTPServer, *, may_double: set[int] = frozenset()) -> Counter[str]:  # type: ignore[assignment]
    """Nothing lost, nothing doubled (except ``may_double``, the message in flight)."""
    rows = _rows()
    received = Counter(smtp.subjects())
    for i, row in enumerate(rows):
        assert row.status in ("sent", "failed"), f"#{row.id} left {row.status}"
        if row.status == "failed":
            assert row.last_error, f"#{row.id} failed without a reason"
            assert received[row.subject] == 0
        elif i in may_double:
            assert 1 <= received[row.subject] <= 2, row.subject
        else:
            assert received[row.subject] == 1, f"{row.subject} received {received[row.subject]}×"
    assert sum(received.values()) == sum(received[r.subject] for r in rows)  # nothing foreign
    return received


def _set(monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
    for k, v in env.items():
        monkeypatch.setenv(f"ZWGK_{k.upper()}", v)
    reset_settings()


# --------------------------------------------------------------------------- server down


def test_server_down_backs_off_then_delivers(
    env: Path, smtp: SMTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue_messages(4)
    _set(monkeypatch, smtp_port=str(free_port()), send_backoff_seconds="60")
    with frozen() as clock:
        report = dispatch(settings=get_settings())
        assert not report.ok and len(report.retry) == 4
        for row in _rows():
            assert row.status == "pending" and row.attempts == 1
            assert "无法连接邮件服务器" in (row.last_error or "")
            assert as_utc(row.next_attempt_at) == clock.now + timedelta(seconds=60)
        # The server is back, but the automatic retry waits out the backoff …
        _set(monkeypatch, smtp_port=str(smtp.port))
        clock.advance(seconds=59)
        waiting = dispatch(settings=get_settings())
        assert waiting.sent == [] and waiting.waiting == 4 and smtp.messages == []
    # … while the next run (or `zwgk outbox retry`) sends what is pending.
    assert len(dispatch(settings=get_settings(), respect_backoff=False).sent) == 4
    _assert_ledger(smtp)


def test_backoff_doubles_and_gives_up_after_max_attempts(
    env: Path, smtp: SMTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue_messages(1)
    _set(monkeypatch, smtp_port=str(free_port()), send_backoff_seconds="10", max_send_attempts="3")
    waits = []
    with frozen() as clock:
        for _ in range(3):
            dispatch(settings=get_settings(), respect_backoff=False)
            row = _rows()[0]
            if row.next_attempt_at:
                waits.append((as_utc(row.next_attempt_at) - clock.now).total_seconds())  # type: ignore[operator]
            clock.advance(hours=1)
    assert waits == [10, 20]
    row = _rows()[0]
    assert row.status == "failed" and row.attempts == 3 and row.next_attempt_at is None
    assert "无法连接邮件服务器" in (row.last_error or "")
    _assert_ledger(smtp)


# --------------------------------------------------------------------------- replies


def test_temporary_4xx_is_retried_after_the_backoff(
    env: Path, smtp: SMTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue_messages(3)
    _set(monkeypatch, send_backoff_seconds="0.5")
    smtp.recorder.behaviour.data_reply = "451 4.3.0 Try again later"
    with frozen() as clock:
        report = dispatch(settings=get_settings())
        assert len(report.retry) == 3 and all("451" in e for _, e in report.retry)
        smtp.recorder.behaviour.data_reply = None
        clock.advance(seconds=0.4)
        assert dispatch(settings=get_settings()).waiting == 3
        clock.advance(seconds=0.2)
        assert len(dispatch(settings=get_settings()).sent) == 3
    _assert_ledger(smtp)


def test_permanent_5xx_fails_with_the_reason_and_is_not_retried(
    env: Path, smtp: SMTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue_messages(2)
    _set(monkeypatch, send_backoff_seconds="0")
    smtp.recorder.behaviour.data_reply = "554 5.7.1 Message rejected as spam"
    report = dispatch(settings=get_settings())
    assert len(report.failed) == 2 and not report.retry
    smtp.recorder.behaviour.data_reply = None
    assert dispatch(settings=get_settings(), respect_backoff=False).sent == []
    assert all("554 5.7.1 Message rejected as spam" in (r.last_error or "") for r in _rows())
    _assert_ledger(smtp)


def test_refused_recipient_fails_alone(env: Path, smtp: SMTPServer) -> None:
    queue_messages(3)
    smtp.recorder.behaviour.refuse = {"unit1@test.example.gov.cn"}
    report = dispatch(settings=get_settings())
    assert len(report.sent) == 2 and len(report.failed) == 1
    failed = _rows()[1]
    assert failed.status == "failed" and "550" in (failed.last_error or "")
    assert "unit1@test.example.gov.cn" in (failed.last_error or "")
    _assert_ledger(smtp)


def test_refused_copy_recipient_still_delivers_once_and_says_so(
    env: Path, smtp: SMTPServer
) -> None:
    queue_messages(1)
    with session_scope() as s:
        msg = s.exec(select(OutboxMessage)).one()
        msg.cc = ["gone@test.example.gov.cn", "gkb@test.example.gov.cn"]
        s.add(msg)
    smtp.recorder.behaviour.refuse = {"gone@test.example.gov.cn"}
    assert len(dispatch(settings=get_settings()).sent) == 1
    row = _rows()[0]
    assert row.status == "sent" and "gone@test.example.gov.cn" in (row.last_error or "")
    assert smtp.messages[0].rcpt_tos == ["unit0@test.example.gov.cn", "gkb@test.example.gov.cn"]
    assert dispatch(settings=get_settings(), respect_backoff=False).sent == []
    _assert_ledger(smtp)


# --------------------------------------------------------------------------- slowness


@pytest.mark.parametrize("stage", ["slow_ehlo", "slow_rcpt"])
def test_slow_server_times_out_then_delivers(
    env: Path, smtp: SMTPServer, monkeypatch: pytest.MonkeyPatch, stage: str
) -> None:
    """Slow before any data went out: nothing was delivered, nothing is doubled."""
    queue_messages(3)
    _set(monkeypatch, smtp_timeout="1", send_backoff_seconds="0")
    setattr(smtp.recorder.behaviour, stage, 3.0)
    report = dispatch(settings=get_settings())
    assert report.sent == [] and len(report.retry) == 3
    assert all("超时" in e for _, e in report.retry), report.retry
    time.sleep(2.5)  # the slow server finishes its pause
    assert len(dispatch(settings=get_settings()).sent) == 3
    _assert_ledger(smtp)


def test_slow_reply_after_the_data_is_the_one_message_that_may_double(
    env: Path, smtp: SMTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server kept message 0 but answered too late: SMTP cannot tell, so it is sent
    again (same Message-ID). Only that message; the rest once."""
    queue_messages(3)
    _set(monkeypatch, smtp_timeout="1", send_backoff_seconds="0")
    smtp.recorder.behaviour.slow_data = 2.5
    report = dispatch(settings=get_settings())
    assert report.sent == [] and "超时" in report.retry[0][1]
    time.sleep(1.6)  # the server's late answer to nobody
    assert len(dispatch(settings=get_settings()).sent) == 3
    received = _assert_ledger(smtp, may_double={0})
    assert received[_subject(0)] == 2
    ids = {m.message["Message-ID"] for m in smtp.messages if m.subject == _subject(0)}
    assert len(ids) == 1


# --------------------------------------------------------------------------- dropped


def test_connection_dropped_mid_batch_reconnects_and_finishes(env: Path, smtp: SMTPServer) -> None:
    queue_messages(5)
    smtp.recorder.behaviour.drop_at_mail = {2}
    report = dispatch(settings=get_settings())
    assert report.ok and len(report.sent) == 5
    assert smtp.recorder.ehlo_count == 2  # one reconnect
    _assert_ledger(smtp)


def test_connection_dropped_inside_data_reconnects_and_sends_once(
    env: Path, smtp: SMTPServer
) -> None:
    queue_messages(4)
    smtp.recorder.behaviour.drop_in_data = 1  # the server dies before keeping message 1
    report = dispatch(settings=get_settings())
    assert report.ok and len(report.sent) == 4
    _assert_ledger(smtp)


def test_connection_that_keeps_dropping_waits_for_the_next_run(
    env: Path, smtp: SMTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dropped again right after reconnecting: no loop; the rest wait for the next run."""
    queue_messages(5)
    _set(monkeypatch, send_backoff_seconds="0")
    # MAIL #1 is dropped; so is MAIL #2, the first one after the reconnect.
    smtp.recorder.behaviour.drop_at_mail = {1, 2}
    report = dispatch(settings=get_settings())
    assert report.sent == [_rows()[0].id] and len(report.retry) == 4
    assert smtp.recorder.ehlo_count == 2
    smtp.recorder.behaviour.drop_at_mail = set()
    assert len(dispatch(settings=get_settings()).sent) == 4
    _assert_ledger(smtp)


# --------------------------------------------------------------------------- killed


def _cli_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items()}


def test_process_killed_mid_dispatch_loses_nothing(env: Path, smtp: SMTPServer) -> None:
    """SIGKILL after the server kept message 2 but before it answered (the worst moment):
    0 and 1 are recorded sent; 2 (in flight) and the rest of the claimed batch are held by
    a process that is gone, which the next dispatch on this machine sees at once and takes
    over, without waiting for the lease. Only message 2 arrives twice."""
    import socket

    queue_messages(5)
    smtp.recorder.behaviour.hold_data = 2
    proc = subprocess.Popen(
        [sys.executable, "-m", "zwgk.cli", "outbox", "send"],
        env=_cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert smtp.recorder.behaviour.held.wait(60), "the dispatcher never reached message 2"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    smtp.recorder.behaviour.release.set()
    rows = _rows()
    assert [r.status for r in rows[:2]] == ["sent", "sent"]
    dead = f"{socket.gethostname()}:{proc.pid}"
    assert {(r.status, r.claimed_by) for r in rows[2:]} == {("sending", dead)}
    report = dispatch(settings=get_settings())
    assert len(report.sent) == 3 and report.recovered == {dead: 3}
    assert f"接管已中断的发送进程（主机 {socket.gethostname()}，进程 {proc.pid}）遗留的 3 封" in (
        report.summary()
    )
    received = _assert_ledger(smtp, may_double={2})
    assert received[_subject(2)] == 2  # the documented in-flight duplicate …
    ids = {m.message["Message-ID"] for m in smtp.messages if m.subject == _subject(2)}
    assert len(ids) == 1  # … with one Message-ID, so mail clients show it once
    assert all(r.claimed_by is None and r.claim_process is None for r in _rows())


# --------------------------------------------------------------------------- the commands


def test_outbox_commands_for_administrators(
    env: Path, smtp: SMTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    queue_messages(2)
    down = {"ZWGK_SMTP_PORT": str(free_port())}
    r = run_subprocess("outbox", "send", env=down)
    assert r.code == 1 and "Traceback" not in r.err
    assert r.err.startswith("错误：") and "无法连接邮件服务器" in r.err
    assert "2 封暂未发出" in r.out
    rows = json.loads(run_subprocess("outbox", "list", "--status", "pending", "--json").out)
    assert [row["attempts"] for row in rows] == [1, 1]
    assert all(row["next_attempt_at"] and "无法连接" in row["last_error"] for row in rows)
    text = run_subprocess("outbox", "list").out
    assert "待发送" in text and "后重试" in text and "原因：无法连接邮件服务器" in text
    # Waiting out the backoff: `outbox send` sends nothing, says why, and does not fail.
    r = run_subprocess("outbox", "send")
    assert r.code == 0 and "另有 2 封等待重试" in r.out and smtp.messages == []
    r = run_subprocess("outbox", "retry", str(rows[0]["id"]))
    assert r.code == 0 and "已发送 1 封" in r.out
    r = run_subprocess("outbox", "retry", "--all")
    assert r.code == 0 and "已发送 1 封" in r.out
    r = run_subprocess("outbox", "retry", str(rows[0]["id"]))
    assert r.code == 1 and "已发送" in r.err and "无需重试" in r.err
    r = run_subprocess("outbox", "retry", "9999")
    assert r.code != 0 and "没有编号为 9999" in r.err
    _assert_ledger(smtp)
