"""Flow-level tests on a real Prefect test server, a real SQLite file and a real SMTP server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlmodel import select

from models import ChecklistItem, OutboxMessage
from tests.cli import run_inprocess
from tests.smtpd import SMTPServer, free_port
from zwgk.db import session_scope

pytestmark = [pytest.mark.prefect, pytest.mark.usefixtures("prefect_harness")]


def test_run_monthly_filing_mails_each_unit_once(
    sample_directory: str, smtp: SMTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    r = run_inprocess(capsys, "run", "monthly-filing", "--period", "2026-11")
    assert r.code == 0, r.err
    assert "新建事项 50 条" in r.out and "发送通知 50 封" in r.out
    with session_scope() as s:
        items = list(s.exec(select(ChecklistItem)))
    assert len(items) == 50 and {i.due.isoformat() for i in items} == {"2026-11-25"}
    assert len(smtp.messages) == 50
    assert len({tuple(m.rcpt_tos) for m in smtp.messages}) == 50
    subject = smtp.messages[0].subject
    assert subject.startswith("【政务公开】新增非密公文全量备案（2026年11月）任务通知")
    assert "2026年11月25日（星期三）" in smtp.messages[0].text()

    again = run_inprocess(capsys, "run", "monthly-filing", "--period", "2026-11")
    assert again.code == 0 and "新建事项 0 条" in again.out and "发送通知 0 封" in again.out
    assert len(smtp.messages) == 50


def test_flow_run_is_named_with_the_period(directory: str, smtp: SMTPServer) -> None:
    from prefect.client.orchestration import get_client

    from workflows.flows import FLOWS

    result = FLOWS["annual-report"](period="2026")
    assert result["created"] == 6 and result["sent"] == 5

    async def names() -> list[str]:
        async with get_client() as client:
            return [r.name for r in await client.read_flow_runs()]

    assert "annual-report 2026" in asyncio.run(names())


def test_scheduled_run_without_period_uses_the_default(directory: str, smtp: SMTPServer) -> None:
    from datetime import date

    from workflows.flows import FLOWS

    # annual-report scheduled on 2027-01-02 works on the report about 2026.
    result = FLOWS["annual-report"](today=date(2027, 1, 2))
    assert result["period"] == "2026"


def test_failed_send_fails_the_run_and_the_next_run_delivers(
    directory: str,
    smtp: SMTPServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from zwgk.config import reset_settings

    monkeypatch.setenv("ZWGK_SMTP_PORT", str(free_port()))
    reset_settings()
    r = run_inprocess(capsys, "run", "monthly-filing", "--period", "2026-12")
    assert r.code == 1
    assert "5 封暂未发出" in r.err and "无法连接邮件服务器" in r.err and "Traceback" not in r.err
    with session_scope() as s:
        assert {m.status for m in s.exec(select(OutboxMessage))} == {"pending"}
    monkeypatch.setenv("ZWGK_SMTP_PORT", str(smtp.port))
    reset_settings()
    r = run_inprocess(capsys, "run", "monthly-filing", "--period", "2026-12")
    assert r.code == 0, r.err
    assert len(smtp.messages) == 5


def test_dry_run_touches_nothing(
    directory: str, smtp: SMTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    r = run_inprocess(capsys, "run", "monthly-filing", "--period", "2026-11", "--dry-run")
    assert r.code == 0 and "[演练]" in r.out and "将发送通知 5 封" in r.out
    with session_scope() as s:
        assert list(s.exec(select(ChecklistItem))) == []
        assert list(s.exec(select(OutboxMessage))) == []
    assert smtp.messages == []


def test_complete_and_status(
    directory: str, smtp: SMTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    assert run_inprocess(capsys, "run", "decision-catalogue", "--period", "2026").code == 0
    rows = json.loads(
        run_inprocess(
            capsys,
            "status",
            "--obligation",
            "decision-catalogue",
            "--json",
            "--today",
            "2026-04-01",
        ).out
    )
    assert len(rows) == 6
    assert set(rows[0]) == {
        "id",
        "obligation",
        "period",
        "unit",
        "step",
        "role",
        "due",
        "status",
        "completed_at",
        "evidence",
        "due_basis",
        "overdue_at_issue",
        "obligation_title",
        "step_title",
        "awaiting_review",
    }
    lead = next(r for r in rows if r["step"] == "district-catalogue")
    assert lead["status"] == "overdue" and lead["role"] == "lead" and lead["due"] == "2026-03-31"

    r = run_inprocess(
        capsys,
        "complete",
        str(lead["id"]),
        "--evidence",
        "https://www.shcn.gov.cn/xxgk/ml2026",
        "--by",
        "王静",
    )
    assert r.code == 0 and "已登记完成" in r.out
    again = run_inprocess(
        capsys, "complete", str(lead["id"]), "--evidence", "https://example.cn/other"
    )
    assert again.code == 0 and "未作改动" in again.out

    rows = json.loads(
        run_inprocess(capsys, "status", "--unit", "区政府办", "--period", "2026", "--json").out
    )
    done = next(r for r in rows if r["id"] == lead["id"])
    assert done["status"] == "done" and done["evidence"] == "https://www.shcn.gov.cn/xxgk/ml2026"
    assert done["completed_at"].endswith("+00:00")
    assert {r["unit"] for r in rows} == {"区政府办公室"}


def test_var_mail_capture_stores_eml(
    env: Path, tmp_path: Path, directory: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ZWGK_SMTP_HOST unset, mail goes to the local capture server as .eml files."""
    from email import message_from_bytes, policy

    from notifications.capture import start_capture
    from workflows.flows import FLOWS
    from zwgk.config import get_settings, reset_settings

    port = free_port()
    monkeypatch.delenv("ZWGK_SMTP_HOST")
    monkeypatch.delenv("ZWGK_SMTP_PORT")
    monkeypatch.setenv("ZWGK_MAIL_CAPTURE_PORT", str(port))
    reset_settings()
    settings = get_settings()
    controller = start_capture(settings.mail_dir, port=port)
    try:
        FLOWS["monthly-filing"](period="2026-11")
    finally:
        controller.stop()
    files = sorted(settings.mail_dir.glob("*.eml"))
    assert len(files) == 5
    msg = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert "新增非密公文全量备案" in str(msg["Subject"])


def test_smtp_password_from_a_prefect_secret_block(
    directory: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The password can live in a Prefect Secret block; the server checks it (AUTH LOGIN)."""
    from aiosmtpd.smtp import AuthResult
    from prefect.blocks.system import Secret

    from notifications.outbox_send import dispatch
    from zwgk.config import get_settings, reset_settings

    Secret(value="s3cret-pw").save("zwgk-test-smtp-password", overwrite=True)

    def authenticator(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        ok = auth_data.login == b"gkb" and auth_data.password == b"s3cret-pw"
        return AuthResult(success=ok)

    server = SMTPServer(
        authenticator=authenticator, auth_require_tls=False, auth_required=True
    ).start()
    try:
        monkeypatch.setenv("ZWGK_SMTP_PORT", str(server.port))
        monkeypatch.setenv("ZWGK_SMTP_USER", "gkb")
        monkeypatch.setenv("ZWGK_SMTP_PASSWORD_BLOCK", "zwgk-test-smtp-password")
        reset_settings()
        from workflows.engine import build_checklist
        from workflows.registry import REGISTRY

        ob = REGISTRY["monthly-filing"]
        with session_scope() as s:
            build_checklist(
                session=s, ob=ob, period=ob.parse_period("2026-10"), settings=get_settings()
            )
        report = dispatch(settings=get_settings())
        assert report.ok and len(report.sent) == 5
        assert len(server.messages) == 5
    finally:
        server.stop()


def test_a_run_that_cannot_send_says_so_without_a_traceback(
    directory: str, smtp: SMTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As a user sees it: a real process, Prefect's default INFO logging, the server down."""
    from prefect.settings import PREFECT_API_URL

    from tests.cli import run_subprocess

    env = {
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "PREFECT_LOGGING_LEVEL": "INFO",
        "ZWGK_SMTP_PORT": str(free_port()),
    }
    r = run_subprocess("run", "monthly-filing", "--period", "2026-10", env=env)
    assert r.code == 1 and "Traceback" not in r.err + r.out
    last = r.err[r.err.index("错误：") :]
    assert last.startswith("错误：新增非密公文全量备案（2026年10月，测试区）：新建事项 5 条")
    assert "5 封暂未发出" in last and "邮件 #1、#2、#3、#4、#5：无法连接邮件服务器" in last
    # The next run delivers what is pending, and says so.
    r = run_subprocess(
        "run",
        "monthly-filing",
        "--period",
        "2026-10",
        env={**env, "ZWGK_SMTP_PORT": str(smtp.port)},
    )
    assert r.code == 0 and "新建事项 0 条" in r.out and "发送通知 5 封" in r.out, r.err
    assert len(smtp.messages) == 5


def test_what_a_user_can_fix_is_one_line_before_any_flow_runs(
    directory: str, smtp: SMTPServer
) -> None:
    from tests.cli import run_subprocess

    r = run_subprocess(
        "run", "work-plan", "--period", "2026", env={"PREFECT_LOGGING_LEVEL": "INFO"}
    )
    assert r.code != 0 and r.err.startswith("错误：尚未导入测试区 2026 年的政务公开工作要点")
    assert "Traceback" not in r.err and "Flow run" not in r.err  # Prefect never started
