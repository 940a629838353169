"""`zwgk annual import --paste`: tables copied from a published report, pasted as a grid."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import pytest
from sqlmodel import select

from models.annual import AnnualFigure, resolve_cell
from tests.cli import run_inprocess
from tests.seeds import seed_text
from zwgk.db import session_scope

FIXTURE = Path(__file__).parent / "fixtures" / "annual" / "changning_2024_as_printed.csv"


def _fixture(
    tables: tuple[str, ...] = ("table2", "table3", "table4"),
) -> dict[tuple[str, ...], float]:
    """The CSV fixture of 长宁区 2024 (typed as printed), cell by stored cell."""
    with FIXTURE.open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f)]
    out = {}
    for r in rows:
        cell = resolve_cell(r["table"], r["row"], r["column"])
        if cell[0] in tables:
            out[cell] = float(r["value"].replace(",", ""))
    return out


def _stored() -> dict[tuple[str, ...], float]:
    with session_scope() as s:
        return {(f.table, f.row, f.col): f.value for f in s.exec(select(AnnualFigure))}


def _between(text: str, start: str, end: str) -> str:
    """The lines of seed ``text`` from the one holding ``start`` up to the one holding ``end``."""
    lines = text.splitlines()
    a = next(i for i, line in enumerate(lines) if start in line)
    b = next(i for i, line in enumerate(lines) if i > a and end in line)
    return "\n".join(lines[a:b]) + "\n"


def test_seed_003s_tables_pasted_give_the_csv_fixtures_figures(
    directory: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Tables 二, 三 and 四 of 长宁区's 2024 report as the PDF's text gives them: headings,
    # two header rows, merged group cells, rows whose figures start a cell early or late.
    grid = _between(seed_text("003"), "二、主动公开政府信息情况", "五、存在的主要问题")
    path = tmp_path / "表格.txt"
    path.write_text(grid, encoding="utf-8")
    r = run_inprocess(
        capsys, "annual", "import", "--paste", str(path), "--unit", "区政府办公室", "--year", "2024"
    )
    assert r.code == 0, r.err
    assert r.out.strip() == "已导入 区政府办公室 2024 年表二、表三、表四的 200 个数据。"
    assert _stored() == _fixture()


def test_table_three_alone_from_stdin_with_table_option(
    directory: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    grid = _between(
        seed_text("003"), "一、本年新收政府信息公开申请数量", "四、政府信息公开行政复议"
    )
    monkeypatch.setattr(sys, "stdin", io.StringIO(grid))
    r = run_inprocess(
        capsys,
        "annual",
        "import",
        "--paste",
        "--table",
        "表三",
        "--unit",
        "区政府办公室",
        "--year",
        "2024",
    )
    assert r.code == 0, r.err
    assert "表三的 175 个数据" in r.out
    assert _stored() == _fixture(("table3",))


def test_without_a_heading_or_table_the_paste_is_refused(
    directory: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("规章\t0\t0\t0\n"))
    r = run_inprocess(
        capsys, "annual", "import", "--paste", "--unit", "区政府办公室", "--year", "2024"
    )
    assert r.code != 0 and "第 1 行「规章」：不知道属于哪张表——请用 --table 指定" in r.err
    assert _stored() == {}


BAD = """三、收到和处理政府信息公开申请情况
\t\t自然人\t商业企业\t科研机构\t社会公益组织\t法律服务机构\t其他\t总计
一、本年新收政府信息公开申请数量\t\t996\t22\t1\t1\t3\t3\t1026
二、上年结转政府信息公开申请数量\t\t32\t0\t0\t-3\t0\t0\t32
\t(三) 不予公开\t1.属于国家机密\t1\t0\t0\t0\t0\t0\t1
\t\t2.其他法律行政法规禁止公开\t0\t0\t0件\t0\t0\t0\t0
\t\t3.危及“三安全一稳定”\t2\t0\t0\t0\t0\t2
"""


def test_bad_cells_are_each_named_and_nothing_is_written(
    directory: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(BAD, encoding="gb18030")  # as saved by a Windows editor
    r = run_inprocess(
        capsys, "annual", "import", "--paste", str(path), "--unit", "区政府办公室", "--year", "2024"
    )
    assert r.code != 0 and "Traceback" not in r.err
    where = f"文件 {path} 第"
    assert (
        f"{where} 4 行：表三「二、上年结转政府信息公开申请数量」行「社会公益组织」列：「-3」不能为负数"
        in r.err
    )
    assert (
        f"{where} 5 行：表三没有「(三) 不予公开 1.属于国家机密」这一行，"
        "最接近的是「（三）不予公开 1.属于国家秘密」"
    ) in r.err
    assert f"{where} 6 行「2.其他法律行政法规禁止公开」：「0件」不是数字" in r.err
    assert f"{where} 7 行：表三「3.危及“三安全一稳定”」行应有 7 个数" in r.err
    assert _stored() == {}  # the good line 3 was not written either


EXCEL = (
    "三、本年度办理结果\t(一) 予以公开\t283\t4\t0\t0\t1\t1\t289\n"
    '\t"(二) 部分公开\n(区分处理的, 只计这一情形, 不计其他情形)"\t8\t0\t0\t0\t0\t0\t8\n'
    "\t(三) 不予公开\t1.属于国家秘密\t1\t0\t0\t0\t0\t0\t1\n"
    "\t\t2.其他法律行政法规禁止公开\t0\t0\t0\t0\t0\t0\n"
)


def test_excel_cells_holding_a_line_break_are_one_cell(
    directory: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Excel quotes a cell with a line break; the row after it is numbered by its own line."""
    path = tmp_path / "excel.txt"
    path.write_text(EXCEL, encoding="utf-8")
    args = ("annual", "import", "--paste", str(path), "--table", "三")
    r = run_inprocess(capsys, *args, "--unit", "区政府办公室", "--year", "2024")
    assert (
        r.code != 0
        and f"文件 {path} 第 5 行：表三「2.其他法律行政法规禁止公开」行应有 7 个数" in r.err
    )
    path.write_text(EXCEL.replace("0\t0\t0\t0\t0\t0\n", "0\t0\t0\t0\t0\t0\t0\n"), encoding="utf-8")
    r = run_inprocess(capsys, *args, "--unit", "区政府办公室", "--year", "2024")
    assert r.code == 0, r.err
    stored = _stored()
    assert stored[("table3", "部分公开", "自然人")] == 8
    assert stored[("table3", "不予公开/其他法律行政法规禁止公开", "总计")] == 0
    assert len(stored) == 28


def test_full_width_digits_read_as_figures() -> None:
    """Offices' Excel and IMEs type ０ and １２ full width: they are figures, not label text."""
    from zwgk.intake.figures_grid import parse_grid

    cells = parse_grid(
        "（三）不予公开\t1.属于国家秘密\t１\t0\t0\t0\t0\t0\t１\n"
        "\t２.其他法律行政法规禁止公开\t０\t0\t0\t0\t0\t0\t0\n",
        table="表三",
    )
    got = {(c.row, c.col): c.value for c in cells}
    assert got[("不予公开/属于国家秘密", "自然人")] == 1
    assert got[("不予公开/其他法律行政法规禁止公开", "自然人")] == 0
    assert len(cells) == 14
