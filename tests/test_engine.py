"""Checklist building: items per unit and step, due dates, reruns, dry runs."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select

from models import ChecklistItem, OutboxMessage
from workflows.engine import build_checklist
from workflows.registry import REGISTRY
from zwgk.config import get_settings
from zwgk.db import session_scope


def _build(slug: str, period: str, *, dry_run: bool = False, today: date | None = None):  # type: ignore[no-untyped-def]
    ob = REGISTRY[slug]
    with session_scope() as s:
        result = build_checklist(
            session=s,
            ob=ob,
            period=ob.parse_period(period),
            settings=get_settings(),
            dry_run=dry_run,
            today=today,
        )
        if dry_run:
            s.rollback()
        return result


def _items(slug: str | None = None) -> list[ChecklistItem]:
    with session_scope() as s:
        stmt = select(ChecklistItem)
        if slug:
            stmt = stmt.where(ChecklistItem.obligation == slug)
        return list(s.exec(stmt))


def _outbox() -> list[OutboxMessage]:
    with session_scope() as s:
        return list(s.exec(select(OutboxMessage)))


def test_monthly_filing_one_item_per_unit_due_25th(sample_directory: str) -> None:
    result = _build("monthly-filing", "2026-11")
    items = _items()
    assert result.created == len(items) == 50
    assert {i.due for i in items} == {date(2026, 11, 25)}
    assert len(_outbox()) == 50


def test_rerun_creates_and_queues_nothing(directory: str) -> None:
    _build("monthly-filing", "2026-11")
    again = _build("monthly-filing", "2026-11")
    assert (again.created, again.existing, again.queued) == (0, 5, [])
    assert len(_items()) == 5 and len(_outbox()) == 5


def test_new_unit_after_first_run_gets_its_items_and_mail(directory: str, tmp_path: Path) -> None:
    from tests.factories import SMALL_DIRECTORY, write_units_csv
    from zwgk.intake.directory import import_units

    _build("monthly-filing", "2026-11")
    rows = SMALL_DIRECTORY + [["临空园区", "", "park", "lk@test.example.gov.cn", "", ""]]
    with session_scope() as s:
        import_units(session=s, path=write_units_csv(tmp_path / "u.csv", rows), district=directory)
    again = _build("monthly-filing", "2026-11")
    assert (again.created, again.queued) == (1, ["临空园区"])


def test_dry_run_writes_nothing(directory: str) -> None:
    result = _build("monthly-filing", "2026-11", dry_run=True)
    assert result.created == 5 and len(result.queued) == 5
    assert result.preview[0]["due"] == "2026-11-25"
    assert _items() == [] and _outbox() == []


def test_decision_catalogue_office_leads_units_by_configured_date(
    directory: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from zwgk.config import reset_settings

    monkeypatch.setenv("ZWGK_DECISION_CATALOGUE_UNIT_DUE", "03-31")
    reset_settings()
    _build("decision-catalogue", "2027")
    items = _items()
    lead = [i for i in items if i.step == "district-catalogue"]
    assert len(lead) == 1 and lead[0].role == "lead" and lead[0].due == date(2027, 3, 31)
    assert {i.due for i in items if i.step == "unit-catalogue"} == {date(2027, 3, 31)}
    assert len([i for i in items if i.step == "unit-catalogue"]) == 5


def test_decision_catalogue_default_unit_date(directory: str) -> None:
    _build("decision-catalogue", "2026")
    assert {i.due for i in _items() if i.step == "unit-catalogue"} == {date(2026, 4, 30)}


def test_annual_report_is_due_next_year(directory: str) -> None:
    _build("annual-report", "2026")
    items = _items()
    assert {i.due for i in items if i.step == "unit-report"} == {date(2027, 1, 31)}
    assert [i.due for i in items if i.step == "district-report"] == [date(2027, 2, 20)]


def test_open_month_windows(directory: str) -> None:
    _build("open-month", "2026")
    hold = [i for i in _items() if i.step == "hold"]
    assert {(i.window_start, i.due) for i in hold} == {(date(2026, 8, 1), date(2026, 8, 31))}
    assert {i.due for i in _items() if i.step == "report"} == {date(2026, 9, 10)}


def test_the_mails_deadline_dates_each_keep_to_one_line(directory: str) -> None:
    """A date and its 前 (or a window's two dates) do not break inside, in a narrow cell."""
    _build("open-month", "2026")
    html = _outbox()[0].body_html
    nowrap = '<span style="white-space:nowrap;">'
    assert f"{nowrap}2026年8月1日（星期六）至</span>{nowrap}2026年8月31日（星期一）</span>" in html
    assert f"{nowrap}2026年9月10日（星期四）前</span>" in html


def test_quarter_crossing_into_uncovered_year_is_provisional(directory: str) -> None:
    result = _build("quarterly-progress", "2026-Q4")
    assert result.provisional
    items = _items()
    assert all(i.provisional for i in items)
    # 5 working days after 2026-12-31 with 2027-01-01 estimated off: 01-08.
    assert {i.due for i in items if i.step == "report"} == {date(2027, 1, 8)}


def test_quarter_within_covered_year_is_exact(directory: str) -> None:
    _build("quarterly-progress", "2026-Q3")
    items = _items()
    assert not any(i.provisional for i in items)
    # Q3 ends 2026-09-30; National Day break; 10-10 (调休 Saturday) is the 3rd working day.
    assert {i.due for i in items if i.step == "report"} == {date(2026, 10, 13)}


def test_assignment_mail_lists_items_with_ids(directory: str) -> None:
    _build("decision-catalogue", "2026")
    office = [m for m in _outbox() if m.recipient.startswith("gkb@")][0]
    ids = [i.id for i in _items() if i.unit_id == office.unit_id]
    assert len(ids) == 2
    for i in ids:
        assert f"[{i}]" in office.body_text
    assert "牵头" in office.body_text and "负责" in office.body_text
    assert office.subject.startswith("【政务公开】年度重大行政决策事项目录公开（2026年度）")


def test_html_is_autoescaped(env: Path, tmp_path: Path) -> None:
    from tests.factories import write_units_csv
    from zwgk.intake.directory import import_units

    rows = [["<script>x</script>局", "", "department", "x@test.example.gov.cn", "<b>李</b>", ""]]
    with session_scope() as s:
        import_units(session=s, path=write_units_csv(tmp_path / "u.csv", rows), district="测试区")
    _build("monthly-filing", "2026-11")
    msg = _outbox()[0]
    assert "<script>" not in msg.body_html and "&lt;script&gt;" in msg.body_html


def test_a_second_districts_work_plan_leaves_the_first_districts_items_alone(
    directory: str, tmp_path: Path
) -> None:
    """Building district B's work plan must not count district A's items as its own (and
    withdraw them as "retired"): once it did, waiving every pending item of district A."""
    from tests.factories import SMALL_DIRECTORY, import_plan_rows, write_units_csv
    from zwgk.intake.directory import import_units

    other = [
        [n, "", k, e.replace("test.", "other."), c, ""] for n, _, k, e, c, _ in SMALL_DIRECTORY
    ]
    ob = REGISTRY["work-plan"]
    with session_scope() as s:
        import_units(session=s, path=write_units_csv(tmp_path / "b.csv", other), district="乙区")
    for district in (directory, "乙区"):
        import_plan_rows(
            tmp_path, district, [["1", "更新政府信息公开指南", "…", "各单位", "6月底前"]]
        )
        with session_scope() as s:
            result = build_checklist(
                session=s,
                ob=ob,
                period=ob.parse_period("2026"),
                settings=get_settings(),
                district=district,
                today=date(2026, 3, 2),
            )
        assert (result.created, result.withdrawn) == (5, 0), district
    items = _items("work-plan")
    assert len(items) == 10 and {i.status for i in items} == {"pending"}


def test_chunks_sized_by_items_build_what_one_chunk_builds(
    sample_directory: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The build works through the units in chunks sized by the items a unit gets (a probe
    of the first units, then about CHUNK_ITEMS items): small, uneven chunks must create the
    same items and mails, each unit once, as one chunk of everything."""
    from workflows import engine

    def snapshot() -> tuple[list[tuple[int, str, date]], list[tuple[str, int, int]]]:
        items = sorted((i.unit_id, i.step, i.due) for i in _items())
        mails = sorted((m.key, m.unit_id or 0, m.body_text.count("\n")) for m in _outbox())
        return items, mails

    monkeypatch.setattr(engine, "FIRST_CHUNK_UNITS", 3)
    monkeypatch.setattr(engine, "CHUNK_ITEMS", 7)  # one item a unit: chunks of 3, then 7
    chunks: list[int] = []
    real = engine._build_chunk

    def spy(b, unit_ids, units):  # type: ignore[no-untyped-def]
        chunks.append(len(unit_ids))
        return real(b, unit_ids, units)

    monkeypatch.setattr(engine, "_build_chunk", spy)
    result = _build("monthly-filing", "2026-11")
    chunked = snapshot()
    assert chunks[:3] == [3, 7, 7] and sum(chunks) == 50
    assert result.created == 50 and len(result.queued) == 50

    with session_scope() as s:  # the same from nothing, in one chunk
        for table in (OutboxMessage, ChecklistItem):
            for row in s.exec(select(table)):
                s.delete(row)
    monkeypatch.setattr(engine, "FIRST_CHUNK_UNITS", 1000)
    chunks.clear()
    _build("monthly-filing", "2026-11")
    assert chunks == [50]
    assert snapshot() == chunked


def _mail_on(slug: str, period: str, today: date) -> OutboxMessage:
    _build(slug, period, today=today)
    return _outbox()[0]


def test_assignment_mailed_after_the_deadline_says_so(directory: str) -> None:
    # A district that starts with zwgk in late November: October's filing is already late.
    mail = _mail_on("monthly-filing", "2026-10", date(2026, 11, 30))
    for body in (mail.body_text, mail.body_html):
        assert "所列事项均已超过完成时限，请你单位抓紧办理" in body
        assert "请你单位按时完成" not in body
        assert "已逾期" in body


def test_assignment_before_the_deadline_asks_for_it_on_time(directory: str) -> None:
    mail = _mail_on("monthly-filing", "2026-11", date(2026, 11, 2))
    for body in (mail.body_text, mail.body_html):
        assert "请你单位按时完成。" in body
        assert "已逾期" not in body and "超过完成时限" not in body


def test_assignment_with_some_items_late_marks_those(directory: str) -> None:
    from notifications.render import render
    from workflows.engine import ItemView

    def item(i: int, due: date) -> ItemView:
        return ItemView(i, f"事项{i}", "", "负责", due, None, False, due < date(2026, 11, 30))

    ob = REGISTRY["work-plan"]
    rendered = render(
        "assignment",
        ob.template_dir,
        obligation=ob,
        period=ob.parse_period("2026"),
        unit={"name": "区教育局"},
        office=None,
        link="http://zwgk.example/u/1",
        today=date(2026, 11, 30),
        items=[item(1, date(2026, 6, 30)), item(2, date(2026, 12, 15))],
        late=1,
        subject="",
    )
    assert "其中标注“已逾期”的1项已超过完成时限" in rendered.text
    assert rendered.text.count("（已逾期）") == 1
    assert rendered.html.count(">已逾期<") == 1
