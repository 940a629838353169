"""通报: counts from a real database built by the engine, ranking, and the DOCX/XLSX/Markdown."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlmodel import select

from models.checklist import ChecklistItem
from models.unit import Unit
from tests.cli import run_subprocess
from workflows.items import complete, waive
from workflows.progress import unit_progress
from workflows.registry import get_obligation, item_titles
from zwgk.config import Office, get_settings
from zwgk.db import session_scope
from zwgk.reports.assessment import load_rules
from zwgk.reports.bulletin import build_bulletin, parse_period, to_markdown, to_xlsx
from zwgk.reports.bulletin_docx import to_docx

EVIDENCE = "https://www.test.example.gov.cn/gk/1"
ON_TIME = datetime(2026, 11, 20, 2, tzinfo=UTC)  # due 25 November
LATE = datetime(2026, 11, 27, 2, tzinfo=UTC)
AS_OF = date(2026, 12, 1)

# Unit -> what becomes of its monthly-filing item for 2026-11.
FATES = {
    "区政府办公室": "on_time",
    "区发展改革委": "late",
    "区教育局": "overdue",
    "华阳路街道": "on_time",
    "新泾镇": "waived",
}


def _build(directory: str) -> None:
    """November's monthly filing built by the engine for the test directory, then completed,
    late, left overdue or waived unit by unit (FATES); one October item left overdue too."""
    from workflows.engine import build_checklist

    ob = get_obligation("monthly-filing")
    with session_scope() as s:
        for period in ("2026-10", "2026-11"):
            build_checklist(
                session=s,
                ob=ob,
                period=ob.parse_period(period),
                settings=get_settings(),
                district=directory,
                today=date(2026, 10, 1),
            )
    with session_scope() as s:
        rows = s.exec(
            select(ChecklistItem, Unit).join(Unit).where(ChecklistItem.period == "2026-11")
        ).all()
        for item, unit in rows:
            fate = FATES[unit.name]
            if fate in ("on_time", "late"):
                now = ON_TIME if fate == "on_time" else LATE
                complete(session=s, item_id=item.id, evidence=EVIDENCE, now=now)
            elif fate == "waived":
                waive(session=s, item_id=item.id, reason="本月无新增公文", by="王静")
        october = s.exec(select(ChecklistItem).where(ChecklistItem.period == "2026-10")).all()
        for item in october:
            complete(
                session=s,
                item_id=item.id,
                evidence=EVIDENCE,
                now=datetime(2026, 10, 20, tzinfo=UTC),
            )


def _bulletin(directory: str, period: str = "2026-11"):  # type: ignore[no-untyped-def]
    with session_scope() as s:
        return build_bulletin(
            session=s,
            period=parse_period(period),
            district=directory,
            today=AS_OF,
            office=Office("测试区人民政府办公室", "王静", "021-12345678"),
            rules=load_rules(),
            titles=item_titles(),
        )


def test_counts_rates_and_ranking(directory: str) -> None:
    _build(directory)
    b = _bulletin(directory)
    t = b.total
    assert (t.done_on_time, t.done_late, t.overdue, t.open, t.waived) == (2, 1, 1, 0, 1)
    assert t.completion_rate == pytest.approx(3 / 4)
    assert t.on_time_rate == pytest.approx(2 / 4)
    assert [s.unit for s in b.ranking] == [
        "区政府办公室",
        "华阳路街道",
        "新泾镇",
        "区发展改革委",
        "区教育局",
    ]
    assert [s.score for s in b.ranking] == [100, 100, 100, 99.5, 99]
    assert [(o.unit, o.due, o.days_late) for o in b.overdue] == [
        ("区教育局", date(2026, 11, 25), 6)
    ]
    # The same counts as the progress report's own query for the obligation period.
    with session_scope() as s:
        per_unit = unit_progress(
            session=s, obligation="monthly-filing", period="2026-11", today=AS_OF
        )
    assert sum(p.done_on_time for p in per_unit) == t.done_on_time
    assert sum(p.done_late for p in per_unit) == t.done_late
    assert sum(p.overdue for p in per_unit) == t.overdue


def test_quarter_counts_every_month_due_in_it(directory: str) -> None:
    _build(directory)
    b = _bulletin(directory, "2026-Q4")
    assert b.label == "2026年第四季度"
    assert b.total.total == 10  # October's five and November's five
    assert b.total.done_on_time == 2 + 5
    text = to_markdown(b)
    assert "2026年第四季度" in text and "2026-Q4" not in text and "2026-11" not in text


def test_docx_is_an_official_document(directory: str, tmp_path: Path) -> None:
    _build(directory)
    doc = Document(io.BytesIO(to_docx(_bulletin(directory))))
    paragraphs = [p.text for p in doc.paragraphs if p.text]
    assert paragraphs[0] == "关于2026年11月全区政务公开重点工作完成情况的通报"
    assert paragraphs[1].endswith("：")  # 主送
    assert "区政府各委、办、局" in paragraphs[1]
    body = "\n".join(paragraphs)
    assert "全区完成率为75.0%，按时完成率为50.0%" in body
    assert paragraphs[-3:] == [
        "测试区人民政府办公室",
        "2026年12月1日",
        "（联系人：王静，联系电话：021-12345678）",
    ]
    ranking, overdue = doc.tables
    assert [c.text for c in ranking.rows[0].cells] == [
        "排名",
        "单位",
        "按时完成",
        "逾期完成",
        "未完成",
        "免办",
        "完成率",
        "得分",
    ]
    rows = [[c.text for c in r.cells] for r in ranking.rows[1:]]
    assert [r[1] for r in rows] == [
        "区政府办公室",
        "华阳路街道",
        "新泾镇",
        "区发展改革委",
        "区教育局",
    ]
    assert rows[3] == ["4", "区发展改革委", "0", "1", "0", "0", "100.0%", "99.5"]
    assert rows[4] == ["5", "区教育局", "0", "0", "1", "0", "0.0%", "99"]
    assert rows[2][6] == "—"  # waived only: no rate
    assert [c.text for c in overdue.rows[1].cells][1:] == [
        "区教育局",
        "新增非密公文全量备案",
        "2026年11月",
        overdue.rows[1].cells[4].text,
        "2026年11月25日",
        "6",
    ]
    assert "2026-11" not in body
    # Laid out for LibreOffice as for Word: rows kept whole, the header repeated on each page,
    # the columns' widths in the grid (LibreOffice reads those) as in the cells.
    from docx.oxml.ns import qn
    from docx.shared import Cm

    for table in (ranking, overdue):
        props = [r._tr.trPr for r in table.rows]
        assert all(p is not None and p.find(qn("w:cantSplit")) is not None for p in props)
        assert props[0].find(qn("w:tblHeader")) is not None
        assert props[1].find(qn("w:tblHeader")) is None
    assert [round(c.width / Cm(1), 1) for c in ranking.columns] == [
        1.2,
        4.2,
        2.0,
        2.0,
        1.6,
        1.2,
        1.9,
        1.5,
    ]
    assert ranking.rows[1].cells[1].width == ranking.columns[1].width


def test_xlsx_ranks_units_with_totals(directory: str) -> None:
    _build(directory)
    wb = load_workbook(io.BytesIO(to_xlsx(_bulletin(directory))))
    ws = wb["排名"]
    assert ws["A1"].value.startswith("2026年11月全区政务公开重点工作完成情况")
    values = [[c.value for c in row] for row in ws.iter_rows(min_row=3, max_row=8)]
    assert [v[1] for v in values] == [
        "区政府办公室",
        "华阳路街道",
        "新泾镇",
        "区发展改革委",
        "区教育局",
        "合计",
    ]
    assert values[-1][2:6] == [2, 1, 1, 1]
    assert values[-1][6] == pytest.approx(0.75)
    assert [c.value for c in wb["逾期未完成事项"][2]][1] == "区教育局"


def test_cli_writes_the_docx_and_refuses_bad_input(directory: str, tmp_path: Path) -> None:
    _build(directory)
    out = tmp_path / "通报.docx"
    r = run_subprocess(
        "report", "bulletin", "--period", "2026-11", "--today", "2026-12-01", "--out", str(out)
    )
    assert r.code == 0, r.err
    assert Document(str(out)).paragraphs[0].text.startswith("关于2026年11月")
    r = run_subprocess("report", "bulletin", "--period", "2026/11", "--format", "md")
    assert r.code != 0 and "2026-Q4" in r.err and "Traceback" not in r.err
    r = run_subprocess("report", "bulletin", "--period", "2026-11", "--format", "docx")
    assert r.code != 0 and "--out" in r.err
    r = run_subprocess(
        "report", "bulletin", "--period", "2026-11", "--format", "md", "--today", "2026-12-01"
    )
    assert r.code == 0 and "| 1 | 区政府办公室 |" in r.out


def test_a_period_with_nothing_due_says_so(directory: str) -> None:
    _build(directory)
    b = _bulletin(directory, "2026-09")
    assert b.ranking == [] and b.overdue == []
    text = to_markdown(b)
    assert "2026年9月全区没有到期的政务公开重点工作事项。" in text
    assert "无逾期未完成事项。" in text
    doc = Document(io.BytesIO(to_docx(b)))
    assert doc.tables == [] and doc.paragraphs[0].text.startswith("关于2026年9月")


def test_items_not_yet_due_are_open_not_overdue(directory: str) -> None:
    _build(directory)
    with session_scope() as s:
        b = build_bulletin(
            session=s,
            period=parse_period("2026-11"),
            district=directory,
            today=date(2026, 11, 25),  # the due date itself: nothing is late yet
            office=Office("测试区人民政府办公室"),
            rules=load_rules(),
            titles=item_titles(),
        )
    t = b.total
    assert (t.overdue, t.open) == (0, 1) and b.overdue == []
    assert "未完成1项；" in to_markdown(b)


def _hand_in_for_review(s, now: datetime) -> ChecklistItem:  # type: ignore[no-untyped-def]
    """区教育局 hands in its November filing (evidence URL, at ``now``); it awaits review."""
    from workflows.submissions import submit

    item = s.exec(
        select(ChecklistItem)
        .join(Unit)
        .where(ChecklistItem.period == "2026-11")
        .where(Unit.name == "区教育局")
    ).one()
    submit(
        session=s,
        item_id=item.id,
        unit_id=item.unit_id,
        evidence=EVIDENCE,
        now=now,
    )
    return item  # type: ignore[no-any-return]


def test_a_filing_awaiting_review_is_not_done_yet(directory: str) -> None:
    """待审核 (handed in, not yet 通过) counts as 未完成 in the 通报, without a deduction; the
    sentence says how many of them wait for review. 通过 makes it done."""
    from workflows.submissions import accept

    _build(directory)
    with session_scope() as s:
        item = _hand_in_for_review(s, LATE)
    b = _bulletin(directory)
    t = b.total
    assert (t.done_on_time, t.done_late, t.awaiting, t.overdue, t.waived) == (2, 1, 1, 0, 1)
    assert t.not_done == 1 and t.completion_rate == pytest.approx(3 / 4)
    jyj = next(s for s in b.ranking if s.unit == "区教育局")
    assert jyj.score == 100  # nothing overdue to deduct for while the office reviews
    assert "未完成1项（其中已报送待审核1项）" in b.summary_sentences()[0]
    with session_scope() as s:
        accept(session=s, item_id=item.id, by="王静")  # type: ignore[arg-type]
    t = _bulletin(directory).total
    assert (t.done_late, t.awaiting, t.not_done) == (2, 0, 0)


def test_a_legacy_filing_awaiting_review_is_counted_once(directory: str) -> None:
    """A done item without a recorded verdict (from before it was kept) whose submission
    awaits review is 待审核 once, in the 通报 and in a period's progress, not also judged
    by its date as done."""
    from sqlalchemy import update

    _build(directory)
    with session_scope() as s:
        item = _hand_in_for_review(s, ON_TIME)
        s.execute(
            update(ChecklistItem)
            .where(ChecklistItem.id == item.id)  # type: ignore[arg-type]
            .values(on_time=None)
        )
    t = _bulletin(directory).total
    assert (t.done_on_time, t.done_late, t.awaiting, t.overdue, t.waived) == (2, 1, 1, 0, 1)
    assert t.total == 5
    with session_scope() as s:
        per_unit = unit_progress(
            session=s, obligation="monthly-filing", period="2026-11", today=AS_OF
        )
    jyj = next(p for p in per_unit if p.unit == "区教育局")
    assert (jyj.awaiting, jyj.done_on_time, jyj.total) == (1, 0, 1)


def test_equal_units_share_a_place_and_ties_are_not_named_by_the_alphabet(
    directory: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Units equal in score and both rates share their place; the 通报 names the units most
    behind only when the data, not the order of their names, singles them out."""
    from zwgk.reports.bulletin import ranking_rows

    _build(directory)
    b = _bulletin(directory)
    assert [(r[0], r[1]) for r in ranking_rows(b)][:2] == [(1, "区政府办公室"), (1, "华阳路街道")]
    assert b.worst_behind() == ["区教育局"]
    assert "其中区教育局逾期未完成事项较多" in "".join(b.summary_sentences())


def test_units_equally_behind_are_not_named_as_the_worst(
    directory: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from zwgk.reports.bulletin import ranking_rows

    monkeypatch.setattr(
        "tests.reports.test_bulletin.FATES",
        {u: ("on_time" if u == "区政府办公室" else "overdue") for u in FATES},
    )
    _build(directory)
    b = _bulletin(directory)
    assert [r[0] for r in ranking_rows(b)] == [1, 2, 2, 2, 2]
    assert b.worst_behind() == []
    text = "".join(b.summary_sentences())
    assert "4个单位尚有逾期未完成事项（见表2），请抓紧办理" in text and "较多" not in text
