"""Four consecutive years of a real published report's tables, typed in as printed: 平潭综合实验区
2021–2024 (tests/fixtures/annual/pingtan_<year>_as_printed.csv, each citing its source). They
import in order without a false alarm; 上年结转 is checked against last year's 结转下年度; one
wrong cell is reported by its printed row and column, alone."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.cli import Result, run_inprocess
from tests.factories import write_csv

FIXTURES = Path(__file__).parent / "fixtures" / "annual"
YEARS = (2021, 2022, 2023, 2024)
HEADER = ["unit", "year", "table", "row", "column", "value"]
UNIT = "区政府办公室"


def _fixture(year: int) -> Path:
    return FIXTURES / f"pingtan_{year}_as_printed.csv"


def _rows(year: int) -> list[list[str]]:
    with _fixture(year).open(encoding="utf-8") as f:
        return [r for r in csv.reader(f) if r and not r[0].startswith("#")][1:]


def _check(capsys: pytest.CaptureFixture[str], year: int, *scope: str) -> Result:
    return run_inprocess(
        capsys, "annual", "check", "--year", str(year), *(scope or ("--unit", UNIT))
    )


def _import_all(capsys: pytest.CaptureFixture[str], changed: dict[int, Path] | None = None) -> None:
    for year in YEARS:
        path = (changed or {}).get(year, _fixture(year))
        r = run_inprocess(capsys, "annual", "import", str(path))
        assert r.code == 0, r.err
        assert "导入年报表格数据 200 项" in r.out


def test_fixtures_cite_their_source() -> None:
    for year in YEARS:
        head = _fixture(year).read_text(encoding="utf-8").splitlines()[:2]
        assert head[0].startswith(f"# 平潭综合实验区{year}年度政府信息公开工作年度报告")
        assert head[1].startswith("# Source: https://www.pingtan.gov.cn/zwgk/zfxxgk/zfxxgknb/")


def test_four_real_years_import_in_order_without_false_alarm(
    directory: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _import_all(capsys)
    for year in YEARS:
        r = _check(capsys, year)
        assert r.code == 0, r.out + r.err
        assert f"{UNIT} {year} 年年报表格校验通过" in r.out
        # Only the first year has no last year to compare with, and says so (not an error).
        skipped = f"注意：没有 {year - 1} 年的表三数据，上年结转未与上一年度结转下年度核对。"
        assert (skipped in r.out) == (year == 2021)
    district = _check(capsys, 2022, "--district", directory)
    assert district.code == 0, district.out
    # The figures are the printed ones: 2021 carried 1 request (自然人) into 2022.
    data = json.loads(
        run_inprocess(
            capsys, "report", "annual", "--year", "2022", "--unit", UNIT, "--format", "json"
        ).out
    )
    assert data["table3"]["上年结转"] == {
        "自然人": 1,
        "商业企业": 0,
        "科研机构": 0,
        "社会公益组织": 0,
        "法律服务机构": 0,
        "其他": 0,
        "总计": 1,
    }
    assert data["table3"]["本年新收"]["总计"] == 74
    assert data["table3"]["其他处理/其他"]["商业企业"] == 2
    assert data["table4"]["行政复议"] == {
        "结果维持": 0,
        "结果纠正": 1,
        "其他结果": 1,
        "尚未审结": 0,
        "总计": 2,
    }
    assert data["table2"]["行政规范性文件"] == {
        "本年制发件数": 88,
        "本年废止件数": 55,
        "现行有效件数": 698,
    }


def _change(tmp_path: Path, year: int, row_end: str, column: str, value: str) -> Path:
    rows = _rows(year)
    (at,) = [i for i, r in enumerate(rows) if r[3].endswith(row_end) and r[4] == column]
    rows[at][5] = value
    return write_csv(tmp_path / f"{year}.csv", HEADER, rows)


def test_one_wrong_cell_is_reported_alone_by_its_printed_row_and_column(
    directory: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # 2022 上年结转 (自然人) printed 1, typed 2: its row, its column and last year's 结转下年度
    # all disagree, and only this cell explains all three.
    wrong = _change(tmp_path, 2022, "二、上年结转政府信息公开申请数量", "自然人", "2")
    _import_all(capsys, {2022: wrong})
    r = _check(capsys, 2022)
    assert r.code == 1
    assert "发现 1 处问题" in r.out
    (line,) = [x for x in r.out.splitlines() if x.startswith("- ")]
    assert line.startswith(
        "- 表三「二、上年结转政府信息公开申请数量」行「自然人」列为 2，按勾稽关系应为 1（"
    )
    assert "上一年度表三「四、结转下年度继续办理」行「自然人」列为 1" in line
    assert "表三「自然人」列：一、本年新收 71 + 二、上年结转 2 = 73" in line
    assert "Traceback" not in r.err
    # Nothing else is flagged: the other years still pass.
    for year in (2021, 2023, 2024):
        assert _check(capsys, year).code == 0


def test_last_years_carry_out_disagreeing_is_named_in_last_years_cell(
    directory: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # 2021 结转下年度 typed 2 (总计 too, so 2021's rows still add up; its columns do not).
    rows = _rows(2021)
    for r in rows:
        if r[3] == "四、结转下年度继续办理" and r[4] in ("自然人", "总计"):
            r[5] = "2"
    _import_all(capsys, {2021: write_csv(tmp_path / "2021.csv", HEADER, rows)})
    r = _check(capsys, 2022)
    assert r.code == 1
    assert (
        "- 表三「二、上年结转政府信息公开申请数量」行「自然人」列为 1，"
        "但上一年度表三「四、结转下年度继续办理」行「自然人」列为 2" in r.out
    )
    assert (
        "- 表三「二、上年结转政府信息公开申请数量」行「总计」列为 1，"
        "但上一年度表三「四、结转下年度继续办理」行「总计」列为 2" in r.out
    )
    assert r.out.count("\n- ") == 2
    assert _check(capsys, 2021).code == 1  # and 2021's own 勾稽 relations fail


def test_a_wrong_cell_of_table_four_names_the_row_that_no_longer_adds_up(
    directory: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Table 四 has one relation per row, so the row is named, not a guessed cell.
    wrong = _change(tmp_path, 2024, "复议后起诉", "结果维持", "14")
    _import_all(capsys, {2024: wrong})
    r = _check(capsys, 2024)
    assert r.code == 1
    assert r.out.count("\n- ") == 1
    assert (
        "- 表四「行政诉讼—复议后起诉」行「总计」列为 19，"
        "但结果维持、结果纠正、其他结果、尚未审结之和为 20" in r.out
    )


def test_notes_above_the_header_keep_row_numbers(
    directory: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lines = _fixture(2023).read_text(encoding="utf-8").splitlines()
    comments = sum(1 for x in lines if x.startswith("#"))
    at = next(i for i, x in enumerate(lines) if ",（一）予以公开,自然人," in x)
    lines[at] = lines[at].rsplit(",", 1)[0] + ",二十二"
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = run_inprocess(capsys, "annual", "import", str(path))
    assert r.code != 0
    assert (
        f"第 {at + 1} 行，字段「value」：表三「（一）予以公开」行「自然人」列：「二十二」不是数字"
        in r.err
    )
    # The notes above the header are counted: the row is the file's line, not the data row.
    assert comments > 0 and f"第 {at + 1 - comments} 行" not in r.err
    assert "Traceback" not in r.err
