"""The ``bulletin`` deployment: last month's 通报 mailed on the first working day, once."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from docx import Document
from sqlmodel import select

from models.checklist import ChecklistItem
from models.outbox import OutboxMessage
from models.unit import Unit
from tests.smtpd import SMTPServer
from workflows.bulletin_mail import first_workday
from workflows.items import complete
from workflows.registry import get_obligation
from workflows.workcal import load_calendar
from zwgk.config import get_settings, reset_settings
from zwgk.db import session_scope
from zwgk.errors import UserError

LEADERS = "张伟 <zhangwei@test.example.gov.cn>, liqiang@test.example.gov.cn"


@pytest.mark.parametrize(
    ("month", "first"),
    [
        ((2026, 11), date(2026, 11, 2)),  # the 1st is a Sunday
        ((2026, 10), date(2026, 10, 8)),  # 国庆 1–7 October
        ((2026, 1), date(2026, 1, 4)),  # 元旦 1–3 January; the 4th a Sunday made a working day
        ((2026, 2), date(2026, 2, 2)),  # 春节 is mid-month: the 2nd, a Monday
        ((2026, 6), date(2026, 6, 1)),  # a working day itself
    ],
)
def test_first_workday_of_the_month(env: object, month: tuple[int, int], first: date) -> None:
    with session_scope() as s:
        assert first_workday(load_calendar(s), *month) == first


def test_a_leaders_entry_that_is_no_address_is_refused_by_name(
    env: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZWGK_LEADERS", "张伟 <zhangwei@test.example.gov.cn>, 李强")
    reset_settings()
    with pytest.raises(UserError, match="ZWGK_LEADERS 中的「李强」不是有效的邮箱地址"):
        get_settings()
    monkeypatch.setenv("ZWGK_LEADERS", "")
    monkeypatch.setenv("ZWGK_OFFICES", '{"测试区": {"leaders": "wang@"}}')
    reset_settings()
    with pytest.raises(UserError, match="「测试区」的 leaders 中的「wang@」不是有效的邮箱地址"):
        get_settings()


def _october(directory: str) -> None:
    """October's monthly filing for the test directory: 区教育局 left overdue, the rest done
    on time."""
    from workflows.engine import build_checklist

    ob = get_obligation("monthly-filing")
    with session_scope() as s:
        build_checklist(
            session=s,
            ob=ob,
            period=ob.parse_period("2026-10"),
            settings=get_settings(),
            district=directory,
            today=date(2026, 10, 1),
        )
    with session_scope() as s:
        for item, unit in s.exec(select(ChecklistItem, Unit).join(Unit)).all():
            if unit.name != "区教育局":
                complete(
                    session=s,
                    item_id=item.id,
                    evidence="https://www.test.example.gov.cn/gk/1",
                    now=datetime(2026, 10, 20, 2, tzinfo=UTC),
                )


@pytest.mark.prefect
@pytest.mark.usefixtures("prefect_harness")
def test_the_first_working_day_mails_last_months_bulletin_once(
    directory: str, smtp: SMTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workflows.flows import bulletin

    monkeypatch.setenv("ZWGK_LEADERS", LEADERS)
    reset_settings()
    _october(directory)
    from notifications.outbox_send import dispatch

    assert dispatch(settings=get_settings()).ok  # October's assignment mails
    smtp.recorder.clear()

    early = bulletin(today=date(2026, 11, 1))  # a Sunday: the first working day is the 2nd
    assert early["due"] is False and early["sent"] == 0
    assert smtp.messages == []

    result = bulletin(today=date(2026, 11, 2))
    assert result["period"] == "2026-10" and result["queued"] == ["测试区"]
    assert result["sent"] == 1
    [mail] = smtp.messages
    assert mail.rcpt_tos == [
        "gkb@test.example.gov.cn",
        "zhangwei@test.example.gov.cn",
        "liqiang@test.example.gov.cn",
    ]
    assert (
        mail.subject
        == "【政务公开·通报】测试区2026年10月政务公开重点工作完成情况通报（2026年11月2日）"
    )
    assert "张伟" in str(mail.message["Cc"])
    text = mail.text()
    assert text.startswith("区政府办公室：")
    assert (
        "《关于2026年10月全区政务公开重点工作完成情况的通报》已根据系统登记的完成情况生成" in text
    )
    assert "全区完成率为80.0%" in text
    assert "1. 区教育局：逾期未完成 1 项" in text
    assert "并抄送张伟 <zhangwei@test.example.gov.cn>、liqiang@test.example.gov.cn" in text
    [(name, data)] = [(p.get_filename(), p.get_content()) for p in mail.message.iter_attachments()]
    assert name == "测试区关于2026年10月全区政务公开重点工作完成情况的通报.docx"
    doc = Document(io.BytesIO(data))
    paragraphs = [p.text for p in doc.paragraphs]
    assert "关于2026年10月全区政务公开重点工作完成情况的通报" in paragraphs
    ranking = doc.tables[0]
    assert ranking.rows[0].cells[1].text == "单位"
    assert ranking.rows[-1].cells[1].text == "区教育局"  # ranked last

    # The next mornings of the window, and a rerun of the same day, send nothing new.
    for day in (2, 3, 12):
        again = bulletin(today=date(2026, 11, day))
        assert again["queued"] == [] and again["existing"] == ["测试区"] and again["sent"] == 0
    assert len(smtp.messages) == 1
    with session_scope() as s:
        rows = s.exec(select(OutboxMessage).where(OutboxMessage.kind == "bulletin")).all()
    assert [(r.key, r.status) for r in rows] == [("bulletin:测试区:2026-10", "sent")]


def test_zwgk_run_bulletin_dry_run_and_bad_period(
    directory: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.cli import run_inprocess

    _october(directory)
    r = run_inprocess(capsys, "run", "bulletin", "--today", "2026-11-01", "--dry-run")
    assert (
        r.code == 0
        and "[演练] 2026年11月1日 早于本月第一个工作日（2026年11月2日），不发送通报" in r.out
    )
    r = run_inprocess(capsys, "run", "bulletin", "--today", "2026-11-02", "--dry-run")
    assert r.code == 0 and r.out.strip() == "[演练] 通报（2026年10月）：将发送测试区的通报。"
    with session_scope() as s:  # the preview wrote nothing
        assert s.exec(select(OutboxMessage).where(OutboxMessage.kind == "bulletin")).all() == []
    r = run_inprocess(capsys, "run", "bulletin", "--period", "2026-Q4", "--dry-run")
    assert r.code != 0 and "期间「2026-Q4」格式不对" in r.err and "Traceback" not in r.err


def test_a_month_not_over_is_not_mailed_and_does_not_block_the_real_one(
    directory: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 通报 of November asked for on 20 or 30 November (partial figures) is refused, by
    ``zwgk run`` (its dry run too) and by the flow's own step, and queues nothing: on 1
    December, November's 通报 is still mailed."""
    from tests.cli import run_inprocess
    from workflows.bulletin_mail import queue_bulletins

    _october(directory)
    for day in ("2026-11-20", "2026-11-30"):
        for dry in ([], ["--dry-run"]):
            r = run_inprocess(
                capsys, "run", "bulletin", "--period", "2026-11", "--today", day, *dry
            )
            assert r.code == 2 and "Traceback" not in r.err, r.err
            assert "2026年11月尚未结束，不能发送该月通报。" in r.err
            assert "zwgk report bulletin --period 2026-11 查看" in r.err
    with session_scope() as s:
        with pytest.raises(UserError, match="2026年11月尚未结束，不能发送该月通报"):
            queue_bulletins(
                session=s, settings=get_settings(), today=date(2026, 11, 30), period="2026-11"
            )
    with session_scope() as s:
        assert s.exec(select(OutboxMessage).where(OutboxMessage.kind == "bulletin")).all() == []
        run = queue_bulletins(
            session=s, settings=get_settings(), today=date(2026, 12, 1), period="2026-11"
        )
    assert run.period == "2026-11" and run.queued == ["测试区"]
    r = run_inprocess(
        capsys, "run", "bulletin", "--period", "2026-10", "--today", "2026-11-20", "--dry-run"
    )
    assert r.code == 0 and r.out.strip() == "[演练] 通报（2026年10月）：将发送测试区的通报。"


@pytest.mark.prefect
@pytest.mark.usefixtures("prefect_harness")
def test_a_failed_runs_message_names_the_month_and_day_in_chinese(
    directory: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mail server down: the 催办 and 通报 runs end Failed, saying which day and month
    as the office writes them (the runs pages and ``zwgk run`` show this message)."""
    from tests.smtpd import free_port
    from workflows.flows import bulletin, reminders

    monkeypatch.setenv("ZWGK_SMTP_PORT", str(free_port()))
    reset_settings()
    _october(directory)  # its assignment mails are still queued
    state = reminders(today=date(2026, 11, 2), return_state=True)
    assert state.is_failed() and state.message.startswith("催办（2026年11月2日）："), state.message
    state = bulletin(today=date(2026, 11, 2), return_state=True)
    assert state.is_failed() and state.message.startswith("通报（2026年10月）："), state.message


@pytest.mark.prefect
@pytest.mark.usefixtures("prefect_harness")
def test_the_flow_refuses_an_unfinished_month_at_once_not_after_retries(directory: str) -> None:
    """Started outside ``zwgk run`` (a deployment, the runs page), the flow's own step
    refuses November on 30 November on its first try: a user's mistake is not retried."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    from workflows.flows import bulletin

    _october(directory)
    state = bulletin(today=date(2026, 11, 30), period="2026-11", return_state=True)
    assert state.is_failed() and "2026年11月尚未结束" in (state.message or ""), state.message
    flow_run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )
    (step,) = [r for r in runs if r.name.startswith("queue_bulletins_task")]
    assert step.run_count == 1, step.run_count
    with session_scope() as s:
        assert s.exec(select(OutboxMessage).where(OutboxMessage.kind == "bulletin")).all() == []
