"""Task tables shaped the way offices outside Shanghai publish them (issue 11, part 2).

The fixture plan is built here, in code, the way a 区政府办公室 in another province lays it out:
a merged title row above the header, headers 工作任务/工作要求/牵头单位/配合单位 and no 完成时间
column, 一、/二、 headings merged down the first column, the task number inside the text
("3.开展…"), group names of the district's own (各区属国有企业, 各片区管理局,
各乡镇人民政府（街道办事处）) declared in the directory's groups column, and a typo.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import select

from models import PlanTask
from tests.cli import run_inprocess, run_subprocess
from tests.factories import write_csv, write_units_csv
from zwgk.db import session_scope
from zwgk.intake.plan.deadlines import find_deadline_phrases
from zwgk.intake.plan.tables import NoDeadlineColumn, read_table

DISTRICT = "城南区"
TOWNSHIPS = "各乡镇人民政府（街道办事处）"
# A district outside Shanghai: state enterprises and area administrations are its own groups.
UNITS = [
    ["区政府办公室", "区政府办", "office", "gkb@cn.example.gov.cn", "王静", ""],
    ["区发展和改革局", "区发改局", "department", "fgj@cn.example.gov.cn", "李明", ""],
    ["区财政局", "", "department", "czj@cn.example.gov.cn", "陈丽", ""],
    ["区司法局", "", "department", "sfj@cn.example.gov.cn", "赵敏", ""],
    ["区数据局", "", "department", "sjj@cn.example.gov.cn", "刘洋", ""],
    ["区城投集团", "", "department", "ct@cn.example.gov.cn", "吴刚", "各区属国有企业"],
    ["区文旅集团", "", "department", "wl@cn.example.gov.cn", "孙强", "各区属国有企业"],
    ["东片区管理局", "", "department", "dp@cn.example.gov.cn", "周杰", "各片区管理局"],
    ["西片区管理局", "", "department", "xp@cn.example.gov.cn", "郑洁", "各片区管理局"],
    ["东湖街道", "", "street", "dh@cn.example.gov.cn", "蔡琳", TOWNSHIPS],
    ["城关镇", "", "town", "cg@cn.example.gov.cn", "邹洁", TOWNSHIPS],
    ["白沙乡", "", "town", "bs@cn.example.gov.cn", "钱进", TOWNSHIPS],
]
ENTERPRISES = ["区城投集团", "区文旅集团"]
AREAS = ["东片区管理局", "西片区管理局"]
TOWNSHIP_UNITS = ["东湖街道", "城关镇", "白沙乡"]

TITLE = "城南区2026年政务公开工作要点任务分工"
HEADER = ["工作任务", "工作要求", "牵头单位", "配合单位"]
# (heading merged down column A, 工作要求, 牵头单位, 配合单位); a heading of None continues
# the merge above.
ROWS: list[tuple[str | None, str, str, str]] = [
    (
        "一、加强政策解读",
        "1.建立健全政策解读机制，7月底前出台政策解读工作规范。",
        "区政府办",
        "区司法局、区数据局",
    ),
    (None, "2.做好行政规范性文件解读，解读材料与文件同步发布。", "区司法局", "各区属国有企业"),
    (None, "3.开展“政策进片区”活动，面向企业精准推送惠企政策。", "区发改局", "各片区管理局"),
    ("二、推进重点领域信息公开", "4.加强财政预决算公开。", "区财政局", TOWNSHIPS),
    (None, "5.推进国有企业信息公开，2026年底前完成公开目录编制。", "区财政局", "各区属国有企业"),
    (None, "按季度更新国有企业经营信息。", "区财政局", "各区属国有企业"),
]
ISSUED = "2026-03-30"


def build_xlsx(path: Path, rows: list[tuple[str | None, str, str, str]] = ROWS) -> Path:
    """The plan as the office's Excel file: a merged title row, the header, headings merged
    down column A, wrap text."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = "任务分工"
    ws.append([TITLE, None, None, None])
    ws.merge_cells("A1:D1")
    ws.append(HEADER)
    for cell in ws[2]:
        cell.font = Font(bold=True)
    start = None
    for i, (heading, text, lead, coop) in enumerate(rows, start=3):
        ws.append([heading, text, lead, coop])
        for cell in ws[i]:
            cell.alignment = Alignment(wrap_text=True, vertical="center")
        if heading is not None:
            if start is not None and i - 1 > start:
                ws.merge_cells(f"A{start}:A{i - 1}")
            start = i
    last = 2 + len(rows)
    if start is not None and last > start:
        ws.merge_cells(f"A{start}:A{last}")
    wb.save(path)
    return path


def build_docx(path: Path) -> Path:
    """A Word table: the title as a merged first row, a heading row merged across, the task
    number in the first column's text, 配合/责任单位 and 时限要求 headers, one empty deadline
    cell whose text names a date."""
    from docx import Document

    header = ["工作任务", "工作要求", "牵头单位", "配合/责任单位", "时限要求"]
    body = [
        ["一、加强政策解读"] * 5,
        ["1.建立解读机制", "出台政策解读工作规范。", "区政府办公室", "区司法局", "6月底前"],
        ["2.推进国企公开", "2026年底前完成公开目录编制。", "区财政局", "各区属国有企业", ""],
        [
            "3.开放片区政务公开专区",
            "各片区设立政务公开专区。",
            "",
            "各片区管理局、区数据局配合",
            "全年",
        ],
    ]
    doc = Document()
    doc.add_paragraph("附件")
    table = doc.add_table(rows=2 + len(body), cols=len(header))
    title = table.cell(0, 0).merge(table.cell(0, len(header) - 1))
    title.text = TITLE
    for j, h in enumerate(header):
        table.cell(1, j).text = h
    for i, row in enumerate(body, start=2):
        if len(set(row)) == 1:
            table.cell(i, 0).merge(table.cell(i, len(header) - 1)).text = row[0]
            continue
        for j, text in enumerate(row):
            table.cell(i, j).text = text
    doc.save(str(path))
    return path


@pytest.fixture
def district(env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    units = write_units_csv(tmp_path / "城南区单位名录.csv", UNITS)
    r = run_inprocess(capsys, "units", "import", str(units), "--district", DISTRICT)
    assert r.code == 0, r.err
    return DISTRICT


def plan_import(capsys: pytest.CaptureFixture[str], path: Path, *extra: str):  # type: ignore[no-untyped-def]
    return run_inprocess(
        capsys,
        "plan",
        "import",
        str(path),
        "--district",
        DISTRICT,
        "--year",
        "2026",
        "--issued",
        ISSUED,
        *extra,
    )


def stored_tasks() -> list[PlanTask]:
    with session_scope() as s:
        return list(s.exec(select(PlanTask).order_by(PlanTask.id)))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- reading tables


def test_headers_recognised_by_meaning(tmp_path: Path) -> None:
    shapes = {
        "other.csv": ["工作任务", "工作要求", "牵头单位", "配合单位", "时限要求"],
        "shanghai.csv": ["序号", "任务名称", "具体内容", "责任单位", "完成时间"],
        "mixed.csv": ["编号", "工作重点", "任务内容", "配合/责任单位", "时间节点"],
    }
    cells = {
        "工作任务": "名称",
        "任务名称": "名称",
        "工作重点": "名称",
        "工作要求": "内容",
        "具体内容": "内容",
        "任务内容": "内容",
        "牵头单位": "区政府办",
        "配合单位": "区司法局",
        "责任单位": "区财政局",
        "配合/责任单位": "区财政局",
        "时限要求": "6月底前",
        "完成时间": "6月底前",
        "时间节点": "6月底前",
        "序号": "1",
        "编号": "1",
    }
    for name, header in shapes.items():
        (row,) = read_table(write_csv(tmp_path / name, header, [[cells[h] for h in header]]))
        assert (row.name, row.content, row.deadline) == ("名称", "内容", "6月底前"), name
        assert row.seq == "1", name
        assert row.headers["deadline"] == header[-1], name
    (other,) = read_table(tmp_path / "other.csv")
    assert (other.lead, other.units, other.cooperating) == ("区政府办", "", "区司法局")
    (mixed,) = read_table(tmp_path / "mixed.csv")
    assert (mixed.lead, mixed.units, mixed.cooperating) == ("", "区财政局", "")
    assert mixed.headers["units"] == "配合/责任单位"


def test_title_row_above_header_is_skipped(tmp_path: Path) -> None:
    rows = read_table(build_xlsx(tmp_path / "plan.xlsx"), need_deadline=False)
    assert len(rows) == len(ROWS)
    assert rows[0].where == "第 3 行"  # row 1 the merged title, row 2 the header
    assert all(TITLE not in (r.name + r.content) for r in rows)


def test_numbers_from_text_when_there_is_no_seq_column(tmp_path: Path) -> None:
    rows = read_table(build_xlsx(tmp_path / "plan.xlsx"), need_deadline=False)
    assert [r.seq for r in rows] == ["1", "2", "3", "4", "5", "5"]  # the last row continues 5
    # The number is dropped from the text; the heading merged down column A is the section.
    assert rows[2].content == "开展“政策进片区”活动，面向企业精准推送惠企政策。"
    assert rows[2].name == ""
    assert [r.section for r in rows] == ["一、加强政策解读"] * 3 + ["二、推进重点领域信息公开"] * 3
    # In Word: the number in the task-name column; a heading row merged across the table.
    docx = read_table(build_docx(tmp_path / "plan.docx"))
    assert [(r.seq, r.name) for r in docx] == [
        ("1", "建立解读机制"),
        ("2", "推进国企公开"),
        ("3", "开放片区政务公开专区"),
    ]
    assert {r.section for r in docx} == {"一、加强政策解读"}


def test_table_without_any_numbers_is_numbered_in_order(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "plan.csv",
        ["工作任务", "工作要求", "牵头单位", "时限要求"],
        [
            ["公开财政预决算", "按时公开。", "区财政局", "全年"],
            ["", "公开说明。", "区财政局", "全年"],  # a merged task name, continued
            ["公开政策解读", "同步发布。", "区司法局", "全年"],
        ],
    )
    assert [r.seq for r in read_table(path)] == ["1", "1", "2"]


def test_deadline_phrases_found_in_text() -> None:
    assert find_deadline_phrases("按要求于2021年底前完成，7月底前上线") == ["2021年底前", "7月底前"]
    assert find_deadline_phrases("本方案印发后30日内报送分解表") == ["本方案印发后30日内"]
    assert find_deadline_phrases("6 月 30 日前报送") == ["6月30日前"]
    # Not deadlines: a month named as a period, last year's end, another document's clock, 年内.
    for text in (
        "8月政府开放月期间开展活动",
        "截至上年底的情况",
        "决策文件出台后10个工作日内公开",
        "年内至少一次",
    ):
        assert find_deadline_phrases(text) == [], text


# --------------------------------------------------------------------------- importing


def test_no_deadline_column_is_refused_naming_the_column_and_the_option(
    district: str, tmp_path: Path
) -> None:
    path = build_xlsx(tmp_path / "城南区任务分工.xlsx")
    with pytest.raises(NoDeadlineColumn):
        read_table(path)
    r = run_subprocess(
        "plan", "import", str(path), "--district", district, "--year", "2026", "--issued", ISSUED
    )
    assert r.code == 2 and "Traceback" not in r.err
    assert str(path) in r.err and "工作表「任务分工」" in r.err and "第 2 行" in r.err
    assert "完成时间" in r.err and "--default-deadline 全年" in r.err
    assert "工作任务、工作要求、牵头单位、配合单位" in r.err  # the header as found
    assert stored_tasks() == []


def test_default_deadline_all_year_applied(
    district: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Done when: 工作任务/工作要求/牵头单位/配合单位, no deadline column, --default-deadline 全年."""
    path = build_xlsx(tmp_path / "城南区任务分工.xlsx")
    r = plan_import(capsys, path, "--default-deadline", "全年")
    assert r.code == 0, r.err
    assert (
        "6 项任务" in r.out
        and "其中 4 项任务未写明完成时间，按 --default-deadline「全年」计" in r.out
    )
    tasks = stored_tasks()
    assert [(t.seq, t.sub) for t in tasks] == [
        ("1", 0),
        ("2", 0),
        ("3", 0),
        ("4", 0),
        ("5", 0),
        ("5", 1),
    ]
    by_default = [t for t in tasks if t.seq in ("2", "3", "4") or t.sub == 1]
    assert all(t.deadline_text == "全年" and t.recurrence == "year-round" for t in by_default)
    assert all(t.due.isoformat() == "2026-12-31" for t in by_default)  # type: ignore[union-attr]
    # Again: the same tasks, nothing changed.
    again = plan_import(capsys, path, "--default-deadline", "全年")
    assert again.code == 0 and "未变 6" in again.out


def test_lead_column_sets_leads(
    district: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = build_xlsx(tmp_path / "城南区任务分工.xlsx")
    r = plan_import(capsys, path, "--default-deadline", "全年", "--dry-run", "--json")
    assert r.code == 0, r.err
    t = json.loads(r.out)
    roles = [(x["lead_units"], x["units"], x["cooperating_units"]) for x in t]
    assert roles == [
        (["区政府办公室"], ["区政府办公室"], ["区司法局", "区数据局"]),
        (["区司法局"], ["区司法局"], ENTERPRISES),
        (["区发展和改革局"], ["区发展和改革局"], AREAS),
        (["区财政局"], ["区财政局"], TOWNSHIP_UNITS),
        (["区财政局"], ["区财政局"], ENTERPRISES),
        (["区财政局"], ["区财政局"], ENTERPRISES),
    ]
    assert t[1]["category"] == "一、加强政策解读"
    assert t[2]["name"].startswith("开展“政策进片区”活动")
    assert stored_tasks() == []
    # Word: a lead column, a 配合/责任单位 column read as it says (no 牵头: responsible; 配合).
    docx = plan_import(capsys, build_docx(tmp_path / "plan.docx"), "--dry-run", "--json")
    assert docx.code == 0, docx.err
    first, second, third = json.loads(docx.out)
    assert (first["lead_units"], first["units"]) == (["区政府办公室"], ["区政府办公室", "区司法局"])
    assert (second["lead_units"], second["units"]) == (["区财政局"], ["区财政局", *ENTERPRISES])
    assert (third["lead_units"], third["units"], third["cooperating_units"]) == (
        [],
        [],
        ["区数据局", *AREAS],  # directory order
    )


def test_deadline_phrase_in_text_used_with_warning(
    district: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = plan_import(
        capsys,
        build_xlsx(tmp_path / "plan.xlsx"),
        "--default-deadline",
        "全年",
        "--dry-run",
        "--json",
    )
    assert r.code == 0, r.err
    tasks = json.loads(r.out)
    assert (tasks[0]["due"], tasks[0]["deadline_text"]) == ("2026-07-31", "7月底前")
    assert (tasks[4]["due"], tasks[4]["deadline_text"]) == ("2026-12-31", "2026年底前")
    assert (
        "第 3 行（序号 1）：未填写完成时间，按任务内容中的「7月底前」计（2026年7月31日），请管理员核对"
        in r.err
    )
    assert "按任务内容中的「2026年底前」计（2026年12月31日）" in r.err
    # A table with a deadline column: an empty cell takes the text's date, no option needed.
    docx = plan_import(capsys, build_docx(tmp_path / "plan.docx"), "--dry-run", "--json")
    assert docx.code == 0, docx.err
    second = json.loads(docx.out)[1]
    assert (second["due"], second["deadline_text"]) == ("2026-12-31", "2026年底前")
    assert "未填写时限要求，按任务内容中的「2026年底前」计" in docx.err


def test_empty_deadline_cell_without_a_date_in_text_is_refused(
    district: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(
        tmp_path / "plan.csv",
        ["工作任务", "工作要求", "牵头单位", "时限要求"],
        [["1.公开财政预决算", "按时公开。", "区财政局", ""]],
    )
    r = plan_import(capsys, path)
    assert r.code == 2 and "第 2 行（序号 1），字段「时限要求」：时间节点为空" in r.err
    ok = plan_import(capsys, path, "--default-deadline", "12月底前", "--json")
    assert ok.code == 0, ok.err
    assert json.loads(ok.out)[0]["due"] == "2026-12-31"


def test_bad_default_deadline_is_refused(
    district: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = plan_import(capsys, build_xlsx(tmp_path / "plan.xlsx"), "--default-deadline", "看情况")
    assert r.code == 2 and "--default-deadline「看情况」" in r.err and "无法识别" in r.err
    assert stored_tasks() == []


def test_typo_in_cooperating_column_names_file_row_column_cell_and_closest_name(
    district: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = list(ROWS)
    rows[1] = (None, rows[1][1], "区司法局", "区数据局、各区属国有企企")
    rows[2] = (None, rows[2][1], "区发展改革局", rows[2][3])  # for 区发展和改革局
    path = build_xlsx(tmp_path / "城南区任务分工.xlsx", rows)
    r = plan_import(capsys, path, "--default-deadline", "全年")
    assert r.code == 2, r.out
    assert str(path) in r.err and "未导入任何数据" in r.err
    assert (
        "第 4 行（序号 2），字段「配合单位」：「区数据局、各区属国有企企」中的"
        "「各区属国有企企」不在名录中，是否为「各区属国有企业」？"
    ) in r.err
    assert (
        "第 5 行（序号 3），字段「牵头单位」：「区发展改革局」不在名录中，是否为「区发展和改革局」？"
        in r.err
    )
    assert stored_tasks() == []
