"""The annual report from recorded data: seed 003's table 三, checks, DOCX, the January mail."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from models import Application, ChecklistItem
from models.annual import COLUMNS, OUTCOMES, TABLE3_ROWS
from tests.cli import run_inprocess
from tests.factories import write_csv
from tests.smtpd import SMTPServer
from zwgk.db import session_scope

COLS = COLUMNS[:-1]
# Seed 003 (长宁区 2024 年报) table 三, columns 自然人…其他 (总计 is computed).
SEED_2024 = {
    "本年新收": (996, 22, 1, 1, 3, 3),
    "上年结转": (32, 0, 0, 0, 0, 0),
    "予以公开": (283, 4, 0, 0, 1, 1),
    "部分公开": (8, 0, 0, 0, 0, 0),
    "不予公开/属于国家秘密": (1, 0, 0, 0, 0, 0),
    "不予公开/危及“三安全一稳定”": (2, 0, 0, 0, 0, 0),
    "不予公开/保护第三方合法权益": (9, 0, 0, 0, 0, 0),
    "不予公开/属于三类内部事务信息": (3, 0, 0, 0, 0, 0),
    "不予公开/属于四类过程性信息": (1, 0, 0, 0, 0, 0),
    "不予公开/属于行政执法案卷": (1, 1, 0, 0, 0, 0),
    "不予公开/属于行政查询事项": (62, 0, 0, 0, 0, 0),
    "无法提供/本机关不掌握相关政府信息": (289, 3, 0, 1, 0, 0),
    "无法提供/没有现成信息需要另行制作": (126, 1, 0, 0, 0, 0),
    "不予处理/信访举报投诉类申请": (7, 0, 0, 0, 0, 0),
    "不予处理/重复申请": (16, 0, 0, 0, 0, 0),
    "不予处理/无正当理由大量反复申请": (3, 0, 0, 0, 0, 0),
    "其他处理/申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请": (20, 0, 1, 0, 0, 1),
    "其他处理/其他": (157, 11, 0, 0, 2, 1),
    "办理结果总计": (988, 20, 1, 1, 3, 3),
    "结转下年度": (40, 2, 0, 0, 0, 0),
}
SEED_TOTALS = {"本年新收": 1026, "上年结转": 32, "办理结果总计": 1016, "结转下年度": 42}


def seed_register(path: Path, unit: str = "区政府办公室") -> Path:
    """A register whose 2024 table 三 is seed 003's: carried-over requests from December 2023,
    new ones through 2024, answered with the seed's outcomes, the rest still open."""
    rows = []
    n = 0
    for ci, col in enumerate(COLS):
        pending: list[tuple[date, str]] = []
        for k in range(SEED_2024["上年结转"][ci]):
            pending.append((date(2023, 12, 1) + timedelta(days=k % 28), col))
        for k in range(SEED_2024["本年新收"][ci]):
            pending.append((date(2024, 1, 2) + timedelta(days=(k * 7) % 330), col))
        for outcome in OUTCOMES:
            for _ in range(SEED_2024.get(outcome, (0,) * 6)[ci]):
                received, c = pending.pop(0)
                replied = max(received, date(2024, 1, 2)) + timedelta(days=10)
                n += 1
                rows.append(
                    [unit, received.isoformat(), c, outcome, replied.isoformat(), f"YSQ-{n:05d}"]
                )
        for received, c in pending:  # 结转下年度
            n += 1
            rows.append([unit, received.isoformat(), c, "", "", f"YSQ-{n:05d}"])
    return write_csv(
        path, ["unit", "received", "applicant_type", "outcome", "replied", "ref"], rows
    )


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:  # type: ignore[type-arg]
    r = run_inprocess(capsys, "report", "annual", "--format", "json", *args)
    assert r.code == 0, r.err
    return json.loads(r.out)


def test_register_reproduces_seed_003_table3(
    directory: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = seed_register(tmp_path / "register.csv")
    r = run_inprocess(capsys, "applications", "import", str(path))
    assert r.code == 0, r.err
    assert "新增 1058 件" in r.out
    report = _json(capsys, "--year", "2024", "--unit", "区政府办公室")
    t3 = report["table3"]
    assert list(t3) == list(TABLE3_ROWS)
    for row, values in SEED_2024.items():
        assert [t3[row][c] for c in COLS] == list(values), row
    for row, total in SEED_TOTALS.items():
        assert t3[row]["总计"] == total
    assert t3["不予公开/其他法律行政法规禁止公开"]["总计"] == 0
    assert report["consistency"] == {"ok": True, "errors": []}
    # 2023's 结转下年度 is 2024's 上年结转.
    assert (
        _json(capsys, "--year", "2023", "--unit", "区政府办公室")["table3"]["结转下年度"]["总计"]
        == 32
    )
    # Importing the same register again changes nothing.
    again = run_inprocess(capsys, "applications", "import", str(path))
    assert "新增 0 件" in again.out and "未变 1058 件" in again.out
    # Each request's statutory reply deadline is an item: answered ones are done.
    with session_scope() as s:
        items = list(
            s.exec(select(ChecklistItem).where(ChecklistItem.obligation == "application-reply"))
        )
    assert len(items) == 1058
    assert sum(1 for i in items if i.status == "pending") == 42


def test_district_report_aggregates_units(
    directory: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        ["区教育局", "2024-03-01", "自然人", "予以公开", "2024-03-20"],
        ["区发改委", "2024-05-06", "商业企业", "无法提供/本机关不掌握相关政府信息", "2024-05-30"],
        ["区发改委", "2024-12-20", "自然人", "", ""],
    ]
    path = write_csv(
        tmp_path / "r.csv", ["unit", "received", "applicant_type", "outcome", "replied"], rows
    )
    assert run_inprocess(capsys, "applications", "import", str(path)).code == 0
    report = _json(capsys, "--year", "2024", "--district", "测试区")
    t3 = report["table3"]
    assert (
        t3["本年新收"]["总计"] == 3
        and t3["办理结果总计"]["总计"] == 2
        and t3["结转下年度"]["自然人"] == 1
    )
    assert report["consistency"]["ok"]


def test_hand_entered_inconsistent_figure_is_reported_by_cell(
    directory: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = seed_register(tmp_path / "register.csv", unit="区教育局")
    assert run_inprocess(capsys, "applications", "import", str(path)).code == 0
    r = run_inprocess(
        capsys,
        "annual",
        "set",
        "--unit",
        "区教育局",
        "--year",
        "2024",
        "table3",
        "本年新收",
        "自然人",
        "999",
    )
    assert r.code == 0
    report = _json(capsys, "--year", "2024", "--unit", "区教育局")
    errors = report["consistency"]["errors"]
    assert not report["consistency"]["ok"]
    assert any(
        "表三「一、本年新收政府信息公开申请数量」行「总计」列为 1026，但自然人与法人或其他组织各列之和为 1029"
        in e
        for e in errors
    )
    assert any(
        "表三「自然人」列：一、本年新收 999 + 二、上年结转 32 = 1031，不等于 "
        "三、本年度办理结果（七）总计 988 + 四、结转下年度继续办理 40 = 1028" in e
        for e in errors
    )
    # The draft says so too.
    md = run_inprocess(capsys, "report", "annual", "--year", "2024", "--unit", "区教育局")
    assert "数据校验未通过" in md.out and "勾稽关系校验发现" in md.err


def test_carry_over_must_match_last_year(
    directory: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "f.csv",
        ["unit", "year", "table", "row", "column", "value"],
        [
            ["区教育局", "2023", "table3", "本年新收", "自然人", "5"],
            ["区教育局", "2023", "table3", "予以公开", "自然人", "3"],
            ["区教育局", "2023", "table3", "结转下年度", "自然人", "2"],
            ["区教育局", "2024", "table3", "上年结转", "自然人", "1"],
            ["区教育局", "2024", "table3", "予以公开", "自然人", "1"],
        ],
    )
    assert run_inprocess(capsys, "annual", "import", str(path)).code == 0
    errors = _json(capsys, "--year", "2024", "--unit", "区教育局")["consistency"]["errors"]
    assert any(
        "表三「二、上年结转政府信息公开申请数量」行「自然人」列为 1，"
        "但上一年度表三「四、结转下年度继续办理」行「自然人」列为 2" in e
        for e in errors
    )


def test_table2_and_table4_figures(
    directory: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "f.csv",
        ["unit", "year", "table", "row", "column", "value"],
        [
            ["区政府办公室", "2024", "table2", "行政规范性文件", "本年制发件数", "9"],
            [
                "区政府办公室",
                "2024",
                "table2",
                "行政事业性收费",
                "本年收费金额（万元）",
                "31276.29269",
            ],
            ["区政府办公室", "2024", "table4", "行政复议", "结果维持", "36"],
            ["区政府办公室", "2024", "table4", "行政复议", "结果纠正", "10"],
            ["区政府办公室", "2024", "table4", "行政复议", "尚未审结", "10"],
            ["区政府办公室", "2024", "table4", "复议后起诉", "总计", "24"],
            ["区政府办公室", "2024", "table4", "复议后起诉", "结果维持", "18"],
            ["区政府办公室", "2024", "table4", "复议后起诉", "尚未审结", "5"],
        ],
    )
    assert run_inprocess(capsys, "annual", "import", str(path)).code == 0
    report = _json(capsys, "--year", "2024", "--unit", "区政府办")
    assert report["table2"]["行政规范性文件"]["本年制发件数"] == 9
    assert report["table2"]["行政事业性收费"]["本年收费金额（万元）"] == 31276.29269
    assert report["table4"]["行政复议"]["总计"] == 56
    assert report["consistency"]["errors"] == [
        "表四「行政诉讼—复议后起诉」行「总计」列为 24，但结果维持、结果纠正、其他结果、尚未审结之和为 23"
    ]


BAD_REGISTER = [
    (["区教育局", "2024-02-30", "自然人", "予以公开", "2024-03-10"], "第 2 行", "received"),
    (["区教育局", "2024-02-03", "个体户", "予以公开", "2024-03-10"], "第 2 行", "applicant_type"),
    (["区教育局", "2024-02-03", "自然人", "部分予以公开", "2024-03-10"], "第 2 行", "outcome"),
    (["区教育局", "2024-02-03", "自然人", "予以公开", "2024-01-10"], "第 2 行", "replied"),
    (["区不存在局", "2024-02-03", "自然人", "", ""], "第 2 行", "unit"),
]


@pytest.mark.parametrize(("row", "where", "field"), BAD_REGISTER, ids=[b[2] for b in BAD_REGISTER])
def test_bad_register_row_imports_nothing(
    directory: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    row: list[str],
    where: str,
    field: str,
) -> None:
    good = ["区教育局", "2024-01-05", "自然人", "予以公开", "2024-01-20"]
    path = write_csv(
        tmp_path / "bad.csv",
        ["unit", "received", "applicant_type", "outcome", "replied"],
        [row, good],
    )
    r = run_inprocess(capsys, "applications", "import", str(path))
    assert (
        r.code == 2
        and str(path) in r.err
        and where in r.err
        and field in r.err
        and "Traceback" not in r.err
    )
    with session_scope() as s:
        assert list(s.exec(select(Application))) == []
        assert list(s.exec(select(ChecklistItem))) == []


def test_register_from_xlsx(
    directory: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["unit", "received", "applicant_type", "outcome", "replied"])
    ws.append(["区教育局", date(2024, 3, 1), "自然人", "不予公开/属于国家秘密", date(2024, 3, 15)])
    ws.append(["区教育局", "2024-12-30", "法律服务机构", None, None])
    wb.save(tmp_path / "r.xlsx")
    assert run_inprocess(capsys, "applications", "import", str(tmp_path / "r.xlsx")).code == 0
    t3 = _json(capsys, "--year", "2024", "--unit", "区教育局")["table3"]
    assert t3["不予公开/属于国家秘密"]["自然人"] == 1 and t3["结转下年度"]["法律服务机构"] == 1


def test_docx_has_the_statutory_sections(
    directory: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from docx import Document

    path = seed_register(tmp_path / "register.csv")
    run_inprocess(capsys, "applications", "import", str(path))
    out = tmp_path / "年报.docx"
    r = run_inprocess(
        capsys,
        "report",
        "annual",
        "--year",
        "2024",
        "--unit",
        "区政府办公室",
        "--format",
        "docx",
        "--out",
        str(out),
    )
    assert r.code == 0, r.err
    doc = Document(str(out))
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert headings == [
        "一、总体情况",
        "二、主动公开政府信息情况",
        "三、收到和处理政府信息公开申请情况",
        "四、政府信息公开行政复议、行政诉讼情况",
        "五、存在的主要问题及改进情况",
        "六、其他需要报告的事项",
    ]
    text = "\n".join(p.text for p in doc.paragraphs)
    # Section 一 states the register's numbers; what it cannot know is marked, in yellow.
    assert "共收到政府信息公开申请1026件" in text and "结转下年度继续办理42件" in text
    marked = [r.text for p in doc.paragraphs for r in p.runs if r.font.highlight_color]
    assert marked and all(m.startswith("【待填写：") for m in marked)
    assert len(marked) == text.count("【待填写：")
    table3 = next(t for t in doc.tables if "申请人情况" in t.cell(0, 2).text)
    cells = [[c.text for c in row.cells] for row in table3.rows]
    assert [
        "一、本年新收政府信息公开申请数量",
        "一、本年新收政府信息公开申请数量",
        "996",
        "22",
        "1",
        "1",
        "3",
        "3",
        "1026",
    ] in cells
    assert any(row[1] == "1.属于国家秘密" and row[-1] == "1" for row in cells)
    assert any(row[0] == "三、本年度办理结果" and row[-1] == "" for row in cells)
    assert any(row[0] == "四、结转下年度继续办理" and row[-1] == "42" for row in cells)


def test_january_run_mails_each_unit_its_draft(
    directory: str, smtp: SMTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from docx import Document

    from notifications.outbox_send import dispatch
    from workflows.engine import build_checklist
    from workflows.registry import REGISTRY
    from zwgk.config import get_settings

    run_inprocess(
        capsys, "applications", "import", str(seed_register(tmp_path / "r.csv", unit="区教育局"))
    )
    dispatch(settings=get_settings())
    smtp.recorder.clear()
    ob = REGISTRY["annual-report"]
    with session_scope() as s:
        build_checklist(
            session=s,
            ob=ob,
            period=ob.period_for(date(2025, 1, 2)),
            settings=get_settings(),
            today=date(2025, 1, 2),
        )
    assert dispatch(settings=get_settings()).ok
    assert len(smtp.messages) == 5
    for m in smtp.messages:
        files = [(p.get_filename(), p.get_content()) for p in m.message.iter_attachments()]
        assert files and all(name.endswith("（草稿）.docx") for name, _ in files)
        if m.rcpt_tos[0] == "jyj@test.example.gov.cn":
            doc = Document(io.BytesIO(files[0][1]))
            assert any("996" in c.text for t in doc.tables for row in t.rows for c in row.cells)
        if m.rcpt_tos[0] == "gkb@test.example.gov.cn":
            assert {n for n, _ in files} == {
                "区政府办公室2024年政府信息公开工作年度报告（草稿）.docx",
                "测试区2024年政府信息公开工作年度报告（草稿）.docx",
            }
