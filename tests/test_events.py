"""Event-driven deadlines and administrator actions (waive, reopen)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlmodel import select

from models import ChecklistItem, ItemEvent
from tests.cli import run_inprocess
from tests.smtpd import SMTPServer
from tests.test_web import _get, _link_for  # the `web` fixture is in conftest
from zwgk.db import session_scope


def test_record_event_creates_item_with_workday_deadline(
    directory: str, smtp: SMTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    r = run_inprocess(
        capsys,
        "event",
        "record",
        "decision-feedback",
        "--unit",
        "区发改委",
        "--date",
        "2026-09-28",
        "--ref",
        "长发改〔2026〕12号",
    )
    assert r.code == 0, r.err
    with session_scope() as s:
        item = s.exec(select(ChecklistItem)).one()
    # 10 working days from 09-28: 09-29, 09-30, 10-08, 10-09, 10-10 (调休), 10-12 … 10-16.
    assert item.due == date(2026, 10, 16) and item.obligation == "decision-feedback"
    assert "已登记事项" in r.out and "须于2026年10月16日（星期五）前完成" in r.out
    assert len(smtp.messages) == 1 and "长发改〔2026〕12号" in smtp.messages[0].subject
    again = run_inprocess(
        capsys,
        "event",
        "record",
        "decision-feedback",
        "--unit",
        "区发展改革委",
        "--date",
        "2026-09-28",
        "--ref",
        "长发改〔2026〕12号",
    )
    assert again.code == 0 and "未重复创建" in again.out
    assert len(smtp.messages) == 1


def test_event_item_goes_through_reminders(directory: str, smtp: SMTPServer) -> None:
    from models.directory import find_unit
    from notifications.outbox_send import dispatch
    from workflows.events import EVENT_KINDS, record_event
    from workflows.reminders import sweep
    from zwgk.config import get_settings

    with session_scope() as s:
        unit = find_unit(session=s, name="区教育局")
        item, _ = record_event(
            session=s,
            kind=EVENT_KINDS["message-reply"],
            unit=unit,
            on=date(2026, 11, 16),
            ref="留言 20261116-0031",
            settings=get_settings(),
        )
    assert item.due == date(2026, 11, 23)
    with session_scope() as s:
        sweep(session=s, settings=get_settings(), today=date(2026, 11, 24))
    dispatch(settings=get_settings())
    assert any("答复网上留言" in m.text() and "已逾期" in m.text() for m in smtp.messages)


def test_provisional_event_deadline(
    directory: str, capsys: pytest.CaptureFixture[str], smtp: SMTPServer
) -> None:
    r = run_inprocess(
        capsys,
        "event",
        "record",
        "application-reply",
        "--unit",
        "新泾镇",
        "--date",
        "2026-12-20",
        "--ref",
        "依申请 2026-118",
    )
    assert r.code == 0 and "（暂定）" in r.out


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (
            ["event", "record", "nope", "--unit", "区教育局", "--date", "2026-11-02", "--ref", "x"],
            "nope",
        ),
        (
            [
                "event",
                "record",
                "message-reply",
                "--unit",
                "区不存在局",
                "--date",
                "2026-11-02",
                "--ref",
                "x",
            ],
            "区不存在局",
        ),
        (
            [
                "event",
                "record",
                "message-reply",
                "--unit",
                "区教育局",
                "--date",
                "2026-11-31",
                "--ref",
                "x",
            ],
            "2026-11-31",
        ),
        (
            [
                "event",
                "record",
                "message-reply",
                "--unit",
                "区教育局",
                "--date",
                "2026-11-02",
                "--ref",
                " ",
            ],
            "--ref",
        ),
    ],
)
def test_event_bad_input(
    directory: str, capsys: pytest.CaptureFixture[str], args: list[str], fragment: str
) -> None:
    r = run_inprocess(capsys, *args)
    assert r.code == 2 and fragment in r.err and "Traceback" not in r.err
    with session_scope() as s:
        assert list(s.exec(select(ChecklistItem))) == []


def test_waive_and_reopen_are_recorded(
    directory: str, smtp: SMTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    from workflows.engine import build_checklist
    from workflows.registry import REGISTRY
    from zwgk.config import get_settings

    ob = REGISTRY["monthly-filing"]
    with session_scope() as s:
        build_checklist(
            session=s, ob=ob, period=ob.parse_period("2026-11"), settings=get_settings()
        )
        item_id = s.exec(select(ChecklistItem.id)).first()
    bad = run_inprocess(capsys, "waive", str(item_id))
    assert bad.code == 2 and "理由" in bad.err
    assert run_inprocess(capsys, "waive", "999", "--reason", "x").code == 2
    assert (
        run_inprocess(
            capsys, "waive", str(item_id), "--reason", "本月无新增公文", "--by", "王静"
        ).code
        == 0
    )
    rows = json.loads(run_inprocess(capsys, "status", "--json").out)
    assert next(r for r in rows if r["id"] == item_id)["status"] == "waived"
    assert run_inprocess(capsys, "reopen", str(item_id), "--by", "王静").code == 0
    with session_scope() as s:
        events = [
            (e.action, e.by, e.reason)
            for e in s.exec(select(ItemEvent).where(ItemEvent.item_id == item_id))
        ]
        assert s.get(ChecklistItem, item_id).status == "pending"  # type: ignore[union-attr]
    assert events == [("waive", "王静", "本月无新增公文"), ("reopen", "王静", "")]


# --------------------------------------------------------------------------- reply clocks
# Every day from late October 2026 to February 2027 is given here, so no count depends on
# which years chinesecalendar covers: weekdays work, weekends rest, except a made-up
# holiday on Thursday 2026-11-12 and a made-up 调休 working Saturday 2026-11-14.

CAL_HOLIDAY, CAL_WORKING_SATURDAY = date(2026, 11, 12), date(2026, 11, 14)


@pytest.fixture
def workcal(directory: str) -> None:
    from datetime import timedelta

    from models import HolidayOverride

    with session_scope() as s:
        d = date(2026, 10, 26)
        while d <= date(2027, 2, 28):
            working = (d.weekday() < 5 or d == CAL_WORKING_SATURDAY) and d != CAL_HOLIDAY
            s.add(HolidayOverride(day=d, kind="workday" if working else "holiday", name="测试"))
            d += timedelta(days=1)


def _record(capsys: pytest.CaptureFixture[str], kind: str, on: str, *extra: str):  # type: ignore[no-untyped-def]
    return run_inprocess(
        capsys,
        "event",
        "record",
        kind,
        "--unit",
        "区教育局",
        "--date",
        on,
        "--ref",
        "编号 1",
        *extra,
    )


def _only_item() -> ChecklistItem:
    with session_scope() as s:
        return s.exec(select(ChecklistItem)).one()


def test_site_error_report_is_due_in_three_working_days(
    workcal: None, smtp: SMTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    r = _record(capsys, "site-error-report", "2026-11-10")
    assert r.code == 0, r.err
    # Tuesday 11-10: 11-11, (11-12 holiday), 11-13, 11-14 (working Saturday).
    item = _only_item()
    assert item.due == date(2026, 11, 14) and item.due_basis is None
    assert "答复“我为政府网站找错”网民留言" in r.out
    text = smtp.messages[0].text()
    assert "“我为政府网站找错”留言3个工作日内答复" in text and "2026年11月14日（星期六）" in text


def test_simple_message_is_due_the_next_working_day(
    workcal: None, smtp: SMTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _record(capsys, "message-reply-simple", "2026-11-11").code == 0
    assert _only_item().due == date(2026, 11, 13)  # the holiday 11-12 is skipped
    kinds = run_inprocess(capsys, "event", "kinds").out
    assert "message-reply-simple" in kinds and "1 个工作日内答复简单网上留言" in kinds
    assert "message-reply " in kinds and "5 个工作日内答复网上留言" in kinds


def test_plain_request_counts_twenty_working_days_from_receipt(
    workcal: None, smtp: SMTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _record(capsys, "application-reply", "2026-11-02").code == 0
    item = _only_item()
    assert item.due == date(2026, 11, 30) and item.due_basis is None


def test_corrected_request_restarts_the_clock(
    workcal: None, smtp: SMTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    r = _record(capsys, "application-reply", "2026-11-02", "--corrected-on", "2026-11-05")
    assert r.code == 0, r.err
    item = _only_item()
    assert item.due == date(2026, 12, 3) and item.clock_from == date(2026, 11, 5)
    assert "自2026年11月5日收到补正材料起算20个工作日" in r.out
    assert "自2026年11月5日收到补正材料起算20个工作日" in smtp.messages[0].text()


def test_third_party_consultation_days_are_not_counted(
    workcal: None, smtp: SMTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # 11-09 … 11-18 holds 8 working days: the holiday 11-12 is not one, Saturday 11-14 is.
    r = _record(
        capsys,
        "application-reply",
        "2026-11-02",
        "--corrected-on",
        "2026-11-05",
        "--consultation",
        "2026-11-09",
        "2026-11-18",
    )
    assert r.code == 0, r.err
    item = _only_item()
    assert item.due == date(2026, 12, 15) and item.excluded_workdays == 8
    basis = "自2026年11月5日收到补正材料起算20个工作日；征求第三方意见8个工作日不计入"
    assert item.due_basis == basis and basis in smtp.messages[0].text()


def test_consultation_days_given_as_a_number(
    workcal: None, smtp: SMTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    r = _record(capsys, "application-reply", "2026-11-02", "--consultation-days", "3")
    assert r.code == 0, r.err
    item = _only_item()
    assert item.due == date(2026, 12, 3)  # 11-30 plus 12-01, 12-02, 12-03
    assert item.due_basis == "自2026年11月2日收到申请起算20个工作日；征求第三方意见3个工作日不计入"


def test_update_applies_correction_to_a_recorded_request_and_shows_it(
    workcal: None, smtp: SMTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _record(capsys, "application-reply", "2026-11-02").code == 0
    item_id = str(_only_item().id)
    r = run_inprocess(capsys, "event", "update", item_id, "--corrected-on", "2026-11-05")
    assert r.code == 0, r.err
    assert "答复期限已调整为2026年12月3日（星期四）" in r.out
    # A later update keeps the correction date and adds the consultation.
    r = run_inprocess(
        capsys, "event", "update", item_id, "--consultation-days", "8", "--by", "王静"
    )
    assert r.code == 0, r.err
    item = _only_item()
    assert item.due == date(2026, 12, 15) and item.clock_from == date(2026, 11, 5)
    status = run_inprocess(capsys, "status", "--today", "2026-11-20").out
    assert "自2026年11月5日收到补正材料起算20个工作日；征求第三方意见8个工作日不计入" in status
    rows = json.loads(run_inprocess(capsys, "status", "--json").out)
    assert rows[0]["due"] == "2026-12-15" and "第三方" in rows[0]["due_basis"]
    with session_scope() as s:
        history = [(e.action, e.by) for e in s.exec(select(ItemEvent))]
    assert history == [("reclock", ""), ("reclock", "王静")]


@pytest.mark.usefixtures("web")
def test_unit_page_shows_how_the_due_date_was_computed(
    workcal: None, smtp: SMTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    r = _record(capsys, "application-reply", "2026-11-02", "--corrected-on", "2026-11-05")
    assert r.code == 0, r.err
    code, page = _get(_link_for(smtp, "jyj@test.example.gov.cn"))
    assert code == 200 and "自2026年11月5日收到补正材料起算20个工作日" in page


def test_register_reimport_keeps_the_adjusted_clock(
    workcal: None, smtp: SMTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    add = ["applications", "add", "--unit", "区教育局", "--received", "2026-11-02"]
    add += ["--applicant-type", "自然人", "--ref", "依申请 2026-7"]
    assert run_inprocess(capsys, *add).code == 0
    item_id = str(_only_item().id)
    assert (
        run_inprocess(capsys, "event", "update", item_id, "--corrected-on", "2026-11-05").code == 0
    )
    # Answered later: the register row changes, the correction date still holds.
    r = run_inprocess(capsys, *add, "--outcome", "予以公开", "--replied", "2026-12-02")
    assert r.code == 0, r.err
    item = _only_item()
    assert item.due == date(2026, 12, 3) and item.on_time is True
    assert item.due_basis == "自2026年11月5日收到补正材料起算20个工作日"


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (
            ["--consultation", "2026-11-18", "2026-11-09"],
            "--consultation 的结束日期2026年11月9日早于开始日期",
        ),
        (
            ["--consultation", "2026-10-28", "2026-11-09"],
            "--consultation 的开始日期2026年10月28日早于收到申请",
        ),
        (
            ["--corrected-on", "2026-10-30"],
            "--corrected-on（补正后收到日期）2026年10月30日早于收到申请",
        ),
        (
            ["--consultation-days", "-2"],
            "--consultation-days（征求第三方意见的工作日数）不能为负数",
        ),
        (
            ["--consultation-days", "2", "--consultation", "2026-11-09", "2026-11-10"],
            "只能选用一个",
        ),
        (["--corrected-on", "2026-11-31"], "--corrected-on「2026-11-31」无效"),
    ],
)
def test_reply_clock_bad_input(
    workcal: None,
    smtp: SMTPServer,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    fragment: str,
) -> None:
    r = _record(capsys, "application-reply", "2026-11-02", *extra)
    assert r.code == 2 and fragment in r.err and "Traceback" not in r.err, r.err
    with session_scope() as s:
        assert list(s.exec(select(ChecklistItem))) == []
    assert smtp.messages == []


def test_clock_options_refused_for_other_kinds_and_updates_checked(
    workcal: None, smtp: SMTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    r = _record(capsys, "message-reply", "2026-11-02", "--corrected-on", "2026-11-05")
    assert r.code == 2 and "仅用于 application-reply" in r.err
    assert _record(capsys, "application-reply", "2026-11-02").code == 0
    item_id = str(_only_item().id)
    r = run_inprocess(capsys, "event", "update", item_id, "--corrected-on", "2026-10-01")
    assert r.code == 2 and "--corrected-on（补正后收到日期）" in r.err
    r = run_inprocess(capsys, "event", "update", item_id)
    assert r.code == 2 and "--corrected-on" in r.err
    assert run_inprocess(capsys, "event", "update", "999", "--consultation-days", "1").code == 2
    item = _only_item()
    assert item.due == date(2026, 11, 30) and item.clock_from is None
