"""The office's overdue summary (逾期汇总) and the lead units' summaries: one mail a day to
each, instead of a copy of every unit's escalation. Flow runs on the Prefect test server,
mail to the real SMTP server on loopback."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from tests.factories import import_plan_rows, write_units_csv
from tests.smtpd import SMTPServer

OFFICE = "gkb@test.example.gov.cn"
LEAD = "fgw@test.example.gov.cn"
STREETS = 40


@pytest.fixture
def city(env: Path, tmp_path: Path) -> str:
    """The office, one department that leads, and 40 streets, with one plan task for 6-30:
    区发展改革委牵头，各街镇负责 (assigned 3-2)."""
    from notifications.outbox_send import dispatch
    from workflows.engine import build_checklist
    from workflows.registry import REGISTRY
    from zwgk.config import get_settings
    from zwgk.db import session_scope
    from zwgk.intake.directory import import_units

    rows = [
        ["区政府办公室", "区政务公开办", "office", OFFICE, "王静", ""],
        ["区发展改革委", "区发改委", "department", LEAD, "李明", ""],
    ] + [
        [f"第{i}街道", "", "street", f"s{i:02d}@test.example.gov.cn", f"联络员{i}", ""]
        for i in range(1, STREETS + 1)
    ]
    with session_scope() as s:
        import_units(
            session=s, path=write_units_csv(tmp_path / "units.csv", rows), district="测试区"
        )
    import_plan_rows(
        tmp_path,
        "测试区",
        [["1", "公开营商环境政策", "…", "区发展改革委牵头，各街镇负责", "6月底前"]],
    )
    ob = REGISTRY["work-plan"]
    with session_scope() as s:
        build_checklist(
            session=s,
            ob=ob,
            period=ob.parse_period("2026"),
            settings=get_settings(),
            today=date(2026, 3, 2),
        )
    dispatch(settings=get_settings())
    return "测试区"


def _to(smtp: SMTPServer, address: str) -> list[str]:
    """Subjects of the mails whose envelope (RCPT TO) includes ``address``."""
    return [m.subject for m in smtp.messages if address in m.rcpt_tos]


@pytest.mark.prefect
@pytest.mark.usefixtures("prefect_harness")
def test_forty_overdue_units_send_the_office_one_mail(city: str, smtp: SMTPServer) -> None:
    from workflows.flows import reminders

    smtp.recorder.clear()
    # 6-29, the day before the deadline: 41 reminders, nothing overdue, no summary.
    out = reminders(today=date(2026, 6, 29))
    assert isinstance(out, dict) and out["sent"] == STREETS + 1
    assert _to(smtp, OFFICE) == []
    assert out["office_summaries"] == 0 and out["lead_summaries"] == 0

    # 7-3, overdue-3: every street and the lead escalated.
    smtp.recorder.clear()
    out = reminders(today=date(2026, 7, 3))
    assert isinstance(out, dict), out
    office = _to(smtp, OFFICE)
    assert len(office) == 1, office
    assert office[0].startswith(f"【政务公开·逾期汇总】测试区：{STREETS + 1} 个单位")
    summary = next(m for m in smtp.messages if OFFICE in m.rcpt_tos).text()
    assert all(f"第{i}街道（联络员：联络员{i}，s{i:02d}@" in summary for i in range(1, 41))
    assert "区发展改革委（联络员：李明" in summary
    # Each street: its own escalation, to it alone. The lead: its own escalation and one
    # summary of the 40 streets it coordinates.
    assert all(len(m.rcpt_tos) == 1 for m in smtp.messages)
    assert all(len(_to(smtp, f"s{i:02d}@test.example.gov.cn")) == 1 for i in range(1, STREETS + 1))
    lead = _to(smtp, LEAD)
    assert len(lead) == 2 and sum("牵头事项逾期汇总" in s for s in lead) == 1
    assert len(smtp.messages) == STREETS + 3
    assert out["office_summaries"] == 1 and out["lead_summaries"] == 1
    assert out["units_behind"] == STREETS + 1 and out["sent"] == STREETS + 3

    # The same day again (a manual rerun): nothing is sent twice.
    out = reminders(today=date(2026, 7, 3))
    assert isinstance(out, dict) and out["sent"] == 0
    assert len(_to(smtp, OFFICE)) == 1

    # Next working day: no rung for the streets (the weekly chase starts 7-10), but the
    # office and the lead each get that day's summary.
    smtp.recorder.clear()
    out = reminders(today=date(2026, 7, 6))
    assert isinstance(out, dict)
    assert len(_to(smtp, OFFICE)) == 1 and len(_to(smtp, LEAD)) == 1
    assert len(smtp.messages) == 2


ISO = re.compile(r"\d{4}-\d{1,2}(-\d{1,2})?|\d{4}-?Q\d")


def _readable(text: str) -> str:
    """The text with links and mail addresses taken out (they may hold digits and dashes)."""
    return re.sub(r"https?://\S+|[\w.+-]+@[\w.-]+", "", text)


def test_summary_and_digest_read_as_the_office_writes(directory: str, smtp: SMTPServer) -> None:
    """A unit late on a quarterly step and a monthly filing, with another filing not yet due:
    the digest names only the late ones as overdue; dates and periods written out in
    Chinese; "你单位", never "贵单位"; the summary lists the unit with its contact."""
    from sqlmodel import select

    from models import ChecklistItem, Unit
    from notifications.outbox_send import dispatch
    from workflows.engine import build_checklist
    from workflows.registry import REGISTRY
    from workflows.reminders import sweep
    from zwgk.config import get_settings
    from zwgk.db import session_scope

    for slug, period, assigned in (
        ("quarterly-progress", "2026-Q4", date(2026, 12, 1)),
        ("monthly-filing", "2026-11", date(2026, 11, 2)),
        ("monthly-filing", "2026-12", date(2026, 12, 1)),
    ):
        ob = REGISTRY[slug]
        with session_scope() as s:
            build_checklist(
                session=s,
                ob=ob,
                period=ob.parse_period(period),
                settings=get_settings(),
                today=assigned,
            )
    # Only 区教育局 stays behind: everyone else's November filing and quarterly report done.
    with session_scope() as s:
        jyj = s.exec(select(Unit).where(Unit.name == "区教育局")).one()
        for item in s.exec(select(ChecklistItem).where(ChecklistItem.unit_id != jyj.id)):
            if item.period != "2026-12":
                item.status = "done"  # type: ignore[assignment]
                s.add(item)
        # Its quarterly step falls due with the December filing's first reminder.
        for item in s.exec(select(ChecklistItem).where(ChecklistItem.unit_id == jyj.id)):
            if item.period == "2026-Q4":
                item.due = date(2026, 12, 15)
                s.add(item)
    dispatch(settings=get_settings())
    smtp.recorder.clear()
    with session_scope() as s:
        result = sweep(session=s, settings=get_settings(), today=date(2026, 12, 18))
    assert dispatch(settings=get_settings()).ok
    assert result.units_behind == 1 and result.office_summaries == {"区政府办公室": 1}

    digest = next(m for m in smtp.messages if m.rcpt_tos == ["jyj@test.example.gov.cn"])
    summary = next(m for m in smtp.messages if "逾期汇总" in m.subject)
    assert summary.rcpt_tos == [OFFICE]
    for m in (digest, summary):
        for body in (m.text(), m.html(), m.subject):
            assert "贵单位" not in body
            assert not ISO.search(_readable(body)), ISO.search(_readable(body))
    text = digest.text()
    assert "【政务公开·逾期催办】区教育局有 2 项事项已逾期、1 项即将到期" == digest.subject
    overdue, upcoming = text.split("二、即将到期（1 项）")
    assert "一、已逾期（2 项）" in overdue and "即将到期" not in overdue.split("一、已逾期")[1]
    assert "（2026年11月）" in overdue and "（2026年第四季度）" in overdue
    assert "已逾期" not in upcoming and "（2026年12月）" in upcoming and "还剩" in upcoming
    assert "你单位" in text and "2026年12月18日（星期五）" in text
    assert "逾期情况已列入今日报送区政府办公室（政务公开办）的逾期汇总" in text
    assert "区政府办公室（政务公开办）\n联系人：王静" in text

    stext = summary.text()
    assert "区教育局（联络员：陈丽，jyj@test.example.gov.cn）：逾期 2 项" in stext
    assert "2026年11月25日（星期三）" in stext and "（2026年第四季度）" in stext
    assert "每个工作日" in stext and "未登记邮箱" not in stext
    assert "<td>区教育局<br>逾期 2 项</td>" not in summary.html()  # rowspan'd cell
    assert 'rowspan="2">区教育局<br>逾期 2 项</td>' in summary.html()
    # The deadline and how late: one line each in the HTML tables (a narrow cell broke
    # 2026年4月3日（星/期五） and 已逾期 163 个工/作日).
    nowrap = 'style="white-space:nowrap;">2026年11月25日（星期三）</td>'
    assert nowrap in summary.html() and nowrap in digest.html()
    assert re.search(
        r'style="color:#b00; white-space:nowrap;">已逾期 \d+ 个工作日<', summary.html()
    )
    assert re.search(r'style="white-space:nowrap; color:#b00;">已逾期 \d+ 个工作日<', digest.html())


def test_unit_without_mailbox_is_named_in_the_summary(directory: str, smtp: SMTPServer) -> None:
    """A unit the sweep cannot mail is still listed for the office, marked as not reached."""
    from sqlmodel import select

    from models import Unit
    from notifications.outbox_send import dispatch
    from workflows.engine import build_checklist
    from workflows.registry import REGISTRY
    from workflows.reminders import sweep
    from zwgk.config import get_settings
    from zwgk.db import session_scope

    ob = REGISTRY["monthly-filing"]
    with session_scope() as s:
        build_checklist(
            session=s,
            ob=ob,
            period=ob.parse_period("2026-11"),
            settings=get_settings(),
            today=date(2026, 11, 2),
        )
        town = s.exec(select(Unit).where(Unit.name == "新泾镇")).one()
        town.email = ""
        s.add(town)
    dispatch(settings=get_settings())
    smtp.recorder.clear()
    with session_scope() as s:
        sweep(session=s, settings=get_settings(), today=date(2026, 11, 30))
    assert dispatch(settings=get_settings()).ok
    assert len(smtp.messages) == 4 + 1  # four digests (not the town's), one summary
    summary = next(m for m in smtp.messages if "逾期汇总" in m.subject)
    assert "新泾镇（联络员：邹洁，未登记邮箱，未能发送催办邮件）：逾期 1 项" in summary.text()
    assert "5 个单位 5 项事项逾期" in summary.subject
