"""The reminder ladder, walked day by day with --today, on a real SMTP server."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import pytest
from sqlmodel import select

from models import ChecklistItem, ReminderLog, Unit
from notifications.outbox_send import dispatch
from tests.smtpd import SMTPServer
from workflows.engine import build_checklist
from workflows.items import complete, waive
from workflows.registry import REGISTRY
from workflows.reminders import sweep
from zwgk.config import get_settings
from zwgk.db import session_scope

OB = REGISTRY["monthly-filing"]
DUE = date(2026, 11, 25)  # a Wednesday
# before-5 11-18, before-1 11-24, due 11-25, overdue-1 11-26, overdue-3 11-30, weekly 12-07, 12-14
EXPECTED_DATES = {
    "before-5": date(2026, 11, 18),
    "before-1": date(2026, 11, 24),
    "due": date(2026, 11, 25),
    "overdue-1": date(2026, 11, 26),
    "overdue-3": date(2026, 11, 30),
    "weekly-1": date(2026, 12, 7),
    "weekly-2": date(2026, 12, 14),
}


def _assign(today: date = date(2026, 11, 2)) -> None:
    with session_scope() as s:
        build_checklist(
            session=s,
            ob=OB,
            period=OB.parse_period("2026-11"),
            settings=get_settings(),
            today=today,
        )
    dispatch(settings=get_settings())


def _run(today: date):  # type: ignore[no-untyped-def]
    with session_scope() as s:
        result = sweep(session=s, settings=get_settings(), today=today)
    report = dispatch(settings=get_settings())
    assert report.ok, report.errors()
    return result


def _item(unit_name: str) -> ChecklistItem:
    with session_scope() as s:
        unit = s.exec(select(Unit).where(Unit.name == unit_name)).one()
        return s.exec(select(ChecklistItem).where(ChecklistItem.unit_id == unit.id)).one()


def _log() -> dict[str, list[tuple[str, date, bool]]]:
    out: dict[str, list[tuple[str, date, bool]]] = defaultdict(list)
    with session_scope() as s:
        for log, _item, unit in s.exec(
            select(ReminderLog, ChecklistItem, Unit)
            .join(ChecklistItem, ChecklistItem.id == ReminderLog.item_id)
            .join(Unit, Unit.id == ChecklistItem.unit_id)
            .order_by(ReminderLog.id)
        ):
            out[unit.name].append((log.rung, log.on, log.skipped))
    return out


def test_walk_a_month_day_by_day(directory: str, smtp: SMTPServer) -> None:
    _assign()
    assert len(smtp.messages) == 5  # assignments
    smtp.recorder.clear()
    day = date(2026, 11, 3)
    while day <= date(2026, 12, 15):
        if day == date(2026, 11, 20):
            with session_scope() as s:
                complete(
                    session=s, item_id=_item("区教育局").id, evidence="https://a.example.gov.cn/1"
                )  # type: ignore[arg-type]
        _run(day)
        day += timedelta(days=1)

    log = _log()
    # The unit that completed on 11-20 got exactly the first rung and nothing after.
    assert log["区教育局"] == [("before-5", date(2026, 11, 18), False)]
    # Every other unit received each rung once, on its day, none skipped.
    for unit in ("区政府办公室", "区发展改革委", "华阳路街道", "新泾镇"):
        assert [(r, on) for r, on, skipped in log[unit]] == list(EXPECTED_DATES.items()), unit
        assert not any(skipped for _, _, skipped in log[unit])

    # Every mail goes to one unit: nobody is copied any more.
    mails = [(m.rcpt_tos, m.message) for m in smtp.messages]  # each parsed once
    assert all(len(rcpt) == 1 and msg["Cc"] is None for rcpt, msg in mails)
    by_rcpt: dict[str, list[str]] = defaultdict(list)
    for rcpt, msg in mails:
        by_rcpt[rcpt[0]].append(str(msg["Subject"]))
    assert len(by_rcpt["jyj@test.example.gov.cn"]) == 1
    assert len(by_rcpt["fgw@test.example.gov.cn"]) == 7
    # Escalations (overdue-3 and the weekly chase) go to the late unit alone, the office's
    # own filing included.
    assert {r: sum("逾期催办" in s for s in v) for r, v in by_rcpt.items()} == {
        "jyj@test.example.gov.cn": 0,
        "fgw@test.example.gov.cn": 3,
        "hyl@test.example.gov.cn": 3,
        "xjz@test.example.gov.cn": 3,
        "gkb@test.example.gov.cn": 3,
    }
    # The office hears of them in one overdue summary per working day while the four are
    # late (11-26 to 12-15: 14 working days), not in a copy of each unit's chase.
    summaries = [msg for _, msg in mails if "逾期汇总" in str(msg["Subject"])]
    assert len(summaries) == 14
    assert sum("逾期汇总" in s for s in by_rcpt["gkb@test.example.gov.cn"]) == 14
    # Its own filing's seven rungs, and the fourteen summaries.
    assert len(by_rcpt["gkb@test.example.gov.cn"]) == 7 + 14
    for msg in summaries:
        text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert all(u in text for u in ("区政府办公室", "区发展改革委", "华阳路街道", "新泾镇"))
        assert "区教育局" not in text  # done on 11-20
        assert "2026年11月25日（星期三）" in text and "（2026年11月）" in text
    assert "4 个单位 4 项事项逾期" in str(summaries[0]["Subject"])


def test_gap_sends_only_the_latest_rung(directory: str, smtp: SMTPServer) -> None:
    _assign()
    smtp.recorder.clear()
    result = _run(date(2026, 11, 27))  # service was down since the 2nd
    log = _log()["区发展改革委"]
    assert [(r, s) for r, _, s in log] == [
        ("before-5", True),
        ("before-1", True),
        ("due", True),
        ("overdue-1", False),
    ]
    assert len(result.skipped) == 3 * 5
    # Five digests, then the office's overdue summary.
    assert len(smtp.messages) == 6
    assert "一、已逾期（1 项）" in smtp.messages[0].text()
    assert "逾期汇总" in smtp.messages[-1].subject
    # The same day again: nothing more, the summary included (one per day and recipient).
    again = _run(date(2026, 11, 27))
    assert len(smtp.messages) == 6
    assert again.queued == 0 and again.office_summaries == {} and again.units_behind == 5


def test_non_working_day_sends_nothing(directory: str, smtp: SMTPServer) -> None:
    _assign()
    smtp.recorder.clear()
    result = _run(date(2026, 11, 28))  # Saturday
    assert not result.workday and smtp.messages == [] and _log() == {}


def test_adjusted_saturday_is_a_reminder_day(directory: str, smtp: SMTPServer) -> None:
    _assign(date(2026, 9, 1))
    smtp.recorder.clear()
    # The September filing is due 09-25; after the National Day break, 10-10 (调休 Saturday)
    # is a working day and the sweep runs.
    with session_scope() as s:
        build_checklist(
            session=s,
            ob=OB,
            period=OB.parse_period("2026-09"),
            settings=get_settings(),
            today=date(2026, 9, 1),
        )
    result = _run(date(2026, 10, 10))
    assert result.workday and result.queued == 5


def test_rung_on_assignment_day_is_covered_by_the_assignment(
    directory: str, smtp: SMTPServer
) -> None:
    _assign(date(2026, 11, 24))  # assigned the day before the due date
    smtp.recorder.clear()
    _run(date(2026, 11, 24))
    assert smtp.messages == []  # before-5 and before-1 fell on or before the assignment
    _run(date(2026, 11, 25))
    assert [r for r, _, _ in _log()["区发展改革委"]] == ["due"]


def test_waived_item_gets_nothing(directory: str, smtp: SMTPServer) -> None:
    _assign()
    with session_scope() as s:
        waive(session=s, item_id=_item("新泾镇").id, reason="本月无新增公文", by="王静")  # type: ignore[arg-type]
    smtp.recorder.clear()
    _run(date(2026, 11, 18))
    assert "xjz@test.example.gov.cn" not in {m.rcpt_tos[0] for m in smtp.messages}
    assert len(smtp.messages) == 4


def test_digest_is_one_mail_per_unit(directory: str, smtp: SMTPServer) -> None:
    _assign()
    ob = REGISTRY["decision-catalogue"]
    with session_scope() as s:
        build_checklist(
            session=s,
            ob=ob,
            period=ob.parse_period("2026"),
            settings=get_settings(),
            today=date(2026, 3, 1),
        )
    # Give the office's catalogue the same deadline as the filing so both fall due together.
    with session_scope() as s:
        for item in s.exec(
            select(ChecklistItem).where(ChecklistItem.obligation == "decision-catalogue")
        ):
            item.due = DUE
            s.add(item)
    dispatch(settings=get_settings())
    smtp.recorder.clear()
    _run(date(2026, 11, 18))
    office = [m for m in smtp.messages if m.rcpt_tos[0] == "gkb@test.example.gov.cn"]
    assert len(office) == 1
    text = office[0].text()
    assert "新增非密公文全量备案" in text and "年度重大行政决策事项目录公开" in text
    assert text.count("还剩 5 个工作日") == 3  # filing + district catalogue + unit catalogue
    assert "/u/" in text  # the personal completion link


@pytest.mark.parametrize("rung", list(EXPECTED_DATES))
def test_each_rung_date(rung: str) -> None:
    from workflows.obligation import DEFAULT_LADDER
    from workflows.reminder_ladder import LadderDates
    from workflows.workcal import WorkCalendar

    dates = LadderDates(WorkCalendar())
    reached = dates.latest(DEFAULT_LADDER, DUE, EXPECTED_DATES[rung], date(2026, 11, 1))
    assert reached is not None and reached.rung == rung
    before = dates.latest(
        DEFAULT_LADDER, DUE, EXPECTED_DATES[rung] - timedelta(days=1), date(2026, 11, 1)
    )
    assert before is None or before.rung != rung


def test_progress_report_matches_status(directory: str, smtp: SMTPServer, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    import csv
    import io
    import json

    from openpyxl import load_workbook

    from tests.cli import run_inprocess

    _assign()
    with session_scope() as s:
        complete(session=s, item_id=_item("区教育局").id, evidence="https://a.example.gov.cn/1")  # type: ignore[arg-type]
        waive(session=s, item_id=_item("新泾镇").id, reason="无新增公文", by="王静")  # type: ignore[arg-type]
    status = json.loads(
        run_inprocess(
            capsys, "status", "--period", "2026-11", "--today", "2026-11-27", "--json"
        ).out
    )
    counts = {
        k: sum(1 for r in status if r["status"] == k)
        for k in ("done", "overdue", "waived", "pending")
    }
    assert counts == {"done": 1, "overdue": 3, "waived": 1, "pending": 0}
    out = tmp_path / "进度.xlsx"
    r = run_inprocess(
        capsys,
        "report",
        "progress",
        "--obligation",
        "monthly-filing",
        "--period",
        "2026-11",
        "--format",
        "xlsx",
        "--out",
        str(out),
        "--today",
        "2026-11-27",
    )
    assert r.code == 0, r.err
    ws = load_workbook(out)["汇总"]
    header = [c.value for c in ws[1]]
    rows = [
        dict(zip(header, [c.value for c in row], strict=False)) for row in ws.iter_rows(min_row=2)
    ]
    units = [row for row in rows if row["单位"] and row["单位"] != "合计"]
    assert sum(row["按时完成"] + row["逾期完成"] for row in units) == counts["done"]
    assert sum(row["已逾期"] for row in units) == counts["overdue"]
    assert sum(row["免办"] for row in units) == counts["waived"]
    csv_out = run_inprocess(
        capsys,
        "report",
        "progress",
        "--period",
        "2026-11",
        "--format",
        "csv",
        "--today",
        "2026-11-27",
    )
    assert "逾期事项清单" in csv_out.out
    assert len(list(csv.reader(io.StringIO(csv_out.out)))) > 5


def test_lead_summary_only_where_the_lead_coordinates(
    directory: str, smtp: SMTPServer, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """区发展改革委牵头，各街镇负责: the lead gets one summary of the late streets.
    各单位 (everyone a lead, nobody coordinating): no lead summary, only the office's.
    (It replaces the test of the escalation's copies: escalations are no longer copied.)"""
    from tests.factories import import_plan_rows

    import_plan_rows(
        tmp_path,
        directory,
        [
            ["1", "公开营商环境政策", "…", "区发展改革委牵头，各街镇负责", "6月底前"],
            ["2", "更新政府信息公开指南", "…", "各单位", "6月底前"],
        ],
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
    smtp.recorder.clear()
    result = _run(date(2026, 7, 3))  # overdue-3 of 06-30: the escalation rung
    assert all(len(m.rcpt_tos) == 1 for m in smtp.messages)  # nobody copied
    by_rcpt: dict[str, list[str]] = defaultdict(list)
    for m in smtp.messages:
        by_rcpt[m.rcpt_tos[0]].append(m.subject)
    # Every unit: its own escalation digest. The lead: plus one summary of the two streets.
    # The office: plus one summary of all five units.
    assert all("逾期催办" in subjects[0] for subjects in by_rcpt.values())
    assert {r: len(v) for r, v in by_rcpt.items()} == {
        "gkb@test.example.gov.cn": 2,
        "fgw@test.example.gov.cn": 2,
        "jyj@test.example.gov.cn": 1,
        "hyl@test.example.gov.cn": 1,
        "xjz@test.example.gov.cn": 1,
    }
    assert result.lead_summaries == {"区发展改革委": 2}
    assert result.office_summaries == {"区政府办公室": 5}
    lead = next(m for m in smtp.messages if "牵头事项逾期汇总" in m.subject)
    assert lead.rcpt_tos == ["fgw@test.example.gov.cn"]
    text = lead.text()
    assert "你单位牵头的事项中" in text and "华阳路街道" in text and "新泾镇" in text
    assert "区教育局" not in text and "更新政府信息公开指南" not in text  # task 2: 各单位
    street = next(m for m in smtp.messages if m.rcpt_tos == ["hyl@test.example.gov.cn"])
    assert "和牵头单位（区发展改革委）的逾期汇总" in street.text()
    education = next(m for m in smtp.messages if m.rcpt_tos == ["jyj@test.example.gov.cn"])
    assert "牵头单位" not in education.text()
