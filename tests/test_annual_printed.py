"""The annual report's tables typed in as printed (seed 003's 2024 tables), the 勾稽 checks
naming cells as printed, and section 一 drafted from the figures."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlmodel import select

from models import AnnualFigure
from tests.cli import run_inprocess
from tests.factories import write_csv
from zwgk.db import session_scope

FIXTURE = Path(__file__).parent / "fixtures" / "annual" / "changning_2024_as_printed.csv"
HEADER = ["unit", "year", "table", "row", "column", "value"]


def _rows() -> list[list[str]]:
    with FIXTURE.open(encoding="utf-8") as f:
        return list(csv.reader(f))[1:]


def _figures() -> int:
    with session_scope() as s:
        return len(list(s.exec(select(AnnualFigure))))


def _carry_2023(tmp_path: Path) -> Path:
    """2023 as the 2024 report implies it: 结转下年度 32 (all 自然人), the year's request total
    781 (1026 is "较2023年上升31.37%"), typed as printed, consistent."""
    rows = [
        ["区政府办公室", "2023", "三", "一、本年新收政府信息公开申请数量", "自然人", "781"],
        ["区政府办公室", "2023", "三", "一、本年新收政府信息公开申请数量", "总计", "781"],
        ["区政府办公室", "2023", "三", "（一）予以公开", "自然人", "749"],
        ["区政府办公室", "2023", "三", "（一）予以公开", "总计", "749"],
        ["区政府办公室", "2023", "三", "（七）总计", "自然人", "749"],
        ["区政府办公室", "2023", "三", "（七）总计", "总计", "749"],
        ["区政府办公室", "2023", "三", "四、结转下年度继续办理", "自然人", "32"],
        ["区政府办公室", "2023", "三", "四、结转下年度继续办理", "总计", "32"],
        ["区政府办公室", "2023", "table4", "行政复议", "结果维持", "40"],
        ["区政府办公室", "2023", "table4", "行政复议", "总计", "40"],
    ]
    return write_csv(tmp_path / "2023.csv", HEADER, rows)


def test_seed_2024_tables_as_printed_import_without_false_alarm(
    directory: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    r = run_inprocess(capsys, "annual", "import", str(_carry_2023(tmp_path)))
    assert r.code == 0, r.err
    r = run_inprocess(capsys, "annual", "import", str(FIXTURE))
    assert r.code == 0, r.err
    assert "导入年报表格数据 200 项" in r.out
    r = run_inprocess(capsys, "annual", "check", "--year", "2024", "--unit", "区政府办公室")
    assert r.code == 0, r.out + r.err
    assert "校验通过" in r.out and "上年结转未与上一年度" not in r.out
    import json

    rep = run_inprocess(
        capsys, "report", "annual", "--year", "2024", "--unit", "区政府办公室", "--format", "json"
    )
    data = json.loads(rep.out)
    t3 = data["table3"]
    assert t3["不予公开/属于国家秘密"]["自然人"] == 1
    assert t3["部分公开"]["总计"] == 8
    assert t3["其他处理/其他"]["商业企业"] == 11
    assert t3["结转下年度"]["总计"] == 42
    assert data["table4"]["复议后起诉"]["尚未审结"] == 5
    assert data["table2"]["行政事业性收费"]["本年收费金额（万元）"] == 31276.29269
    assert data["consistency"] == {"ok": True, "errors": []}


def test_one_wrong_cell_is_reported_by_its_printed_row_and_column(
    directory: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rows = _rows()
    # 不予公开/属于行政执法案卷, 商业企业: printed 1, typed 2.
    at = next(
        i
        for i, r in enumerate(rows)
        if r[3].endswith("7.属于行政执法案卷") and r[4] == "法人或其他组织 商业企业"
    )
    rows[at][5] = "2"
    path = write_csv(tmp_path / "wrong.csv", HEADER, rows)
    assert run_inprocess(capsys, "annual", "import", str(path)).code == 0
    r = run_inprocess(capsys, "annual", "check", "--year", "2024", "--unit", "区政府办公室")
    assert r.code == 1
    assert "注意：没有 2023 年的表三数据，上年结转未与上一年度结转下年度核对。" in r.out
    # The row's 总计 and the (七)总计 of its column no longer add up, and only that cell
    # explains both: it is reported once, with the value the relations call for.
    assert (
        "- 表三「（三）不予公开 7.属于行政执法案卷」行「商业企业」列为 2，按勾稽关系应为 1（"
        in r.out
    )
    assert (
        "表三「（三）不予公开 7.属于行政执法案卷」行「总计」列为 2，但自然人与法人或其他组织各列之和为 3"
        in r.out
    )
    assert "表三「（七）总计」行「商业企业」列为 20，但（一）至（六）各项办理结果之和为 21" in r.out
    assert r.out.count("\n- ") == 1
    # The draft shows the same when it is built.
    md = run_inprocess(capsys, "report", "annual", "--year", "2024", "--unit", "区政府办公室")
    assert "数据校验未通过" in md.out and "（三）不予公开 7.属于行政执法案卷" in md.out


def test_carry_over_checked_against_last_years_printed_table(
    directory: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rows = [
        ["区教育局", "2023", "表三", "四、结转下年度继续办理", "自然人", "3"],
        ["区教育局", "2023", "表三", "四、结转下年度继续办理", "总计", "3"],
        ["区教育局", "2023", "表三", "一、本年新收政府信息公开申请数量", "自然人", "3"],
        ["区教育局", "2023", "表三", "一、本年新收政府信息公开申请数量", "总计", "3"],
        ["区教育局", "2024", "表三", "二、上年结转政府信息公开申请数量", "自然人", "2"],
        ["区教育局", "2024", "表三", "二、上年结转政府信息公开申请数量", "总计", "2"],
        ["区教育局", "2024", "表三", "四、结转下年度继续办理", "自然人", "2"],
        ["区教育局", "2024", "表三", "四、结转下年度继续办理", "总计", "2"],
    ]
    assert (
        run_inprocess(
            capsys, "annual", "import", str(write_csv(tmp_path / "f.csv", HEADER, rows))
        ).code
        == 0
    )
    r = run_inprocess(capsys, "annual", "check", "--year", "2024", "--unit", "区教育局")
    assert r.code == 1
    assert (
        "表三「二、上年结转政府信息公开申请数量」行「自然人」列为 2，"
        "但上一年度表三「四、结转下年度继续办理」行「自然人」列为 3" in r.out
    )


@pytest.mark.parametrize(
    ("table", "row", "column"),
    [
        ("表三", "（三）不予公开 1.属于国家秘密", "自然人"),
        ("三", "1.属于国家秘密", "自然人"),
        ("table3", "不予公开/属于国家秘密", "自然人"),
        ("表3", "三、本年度办理结果 (三) 不予公开 1. 属于国家秘密", "申请人情况 自然人"),
    ],
)
def test_set_accepts_printed_labels_with_or_without_numbering(
    directory: str, capsys: pytest.CaptureFixture[str], table: str, row: str, column: str
) -> None:
    r = run_inprocess(
        capsys, "annual", "set", "--unit", "区教育局", "--year", "2024", table, row, column, "4"
    )
    assert r.code == 0, r.err
    assert "表三「（三）不予公开 1.属于国家秘密」行「自然人」列 = 4" in r.out
    with session_scope() as s:
        (f,) = s.exec(select(AnnualFigure))
    assert (f.table, f.row, f.col, f.value) == ("table3", "不予公开/属于国家秘密", "自然人", 4)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["表三", "（三）不予公开 1.属于国家机密", "自然人", "1"],
            "表三没有「（三）不予公开 1.属于国家机密」这一行，最接近的是「（三）不予公开 1.属于国家秘密」",
        ),
        (
            ["表二", "行政规范性文件", "本年度止件数", "1"],
            "表二「行政规范性文件」行没有「本年度止件数」这一列，最接近的是「本年废止件数」",
        ),
        (["表五", "规章", "本年制发件数", "1"], "没有「表五」这张表"),
        (
            ["表三", "（三）不予公开", "自然人", "1"],
            "表三「（三）不予公开」是分项标题，本身不填数字，数字填在其下各项："
            "「（三）不予公开 1.属于国家秘密」",
        ),
        (
            ["表四", "行政复议", "结果纠正", "十"],
            "表四「行政复议」行「结果纠正」列：「十」不是数字",
        ),
        (
            ["表三", "四、结转下年度继续办理", "自然人", "--", "-3"],
            "表三「四、结转下年度继续办理」行「自然人」列：「-3」不能为负数",
        ),
    ],
    ids=["row", "column", "table", "heading", "non-numeric", "negative"],
)
def test_set_refuses_bad_label_or_figure_naming_the_cell(
    directory: str, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    r = run_inprocess(capsys, "annual", "set", "--unit", "区教育局", "--year", "2024", *args)
    assert r.code != 0
    assert message in r.err, r.err
    assert "Traceback" not in r.err
    assert _figures() == 0


def test_import_with_one_bad_cell_writes_nothing(
    directory: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rows = _rows()
    rows[3][5] = "-1"  # 一、本年新收 … 社会公益组织
    rows[20][3] = "(三) 不予公开 9.属于国家秘密文件"
    path = write_csv(tmp_path / "bad.csv", HEADER, rows)
    r = run_inprocess(capsys, "annual", "import", str(path))
    assert r.code != 0
    assert (
        "第 5 行，字段「value」：表三「一、本年新收政府信息公开申请数量」行「社会公益组织」列：「-1」不能为负数"
        in r.err
    )
    assert "第 22 行" in r.err and "最接近的是「（三）不予公开 1.属于国家秘密」" in r.err
    assert _figures() == 0


def test_section_one_states_the_year_and_the_change(
    directory: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from zwgk.config import reset_settings

    monkeypatch.setenv("ZWGK_OFFICE_FULL_NAME", "上海市测试区人民政府办公室")
    reset_settings()
    assert run_inprocess(capsys, "annual", "import", str(_carry_2023(tmp_path))).code == 0
    assert run_inprocess(capsys, "annual", "import", str(FIXTURE)).code == 0
    md = run_inprocess(capsys, "report", "annual", "--year", "2024", "--unit", "区政府办公室").out
    assert md.startswith("# 上海市测试区人民政府办公室2024年政府信息公开工作年度报告")
    assert "统计期限为2024年1月1日至12月31日" in md
    assert "请与上海市测试区人民政府办公室联系" in md
    assert (
        "2024年，本机关共收到政府信息公开申请1026件，申请数量较2023年上升31.37%（2023年为781件）；"
        "其中自然人申请996件，法人或其他组织申请30件。"
        "本年度办理答复政府信息公开申请1016件（含上年结转32件），结转下年度继续办理42件。"
    ) in md
    # Shares as seed 003 prints them (of the 1016 handled).
    assert (
        "予以公开及部分公开297件，占29.23%；不予公开80件，占7.87%；无法提供420件，占41.34%；" in md
    )
    assert "不予处理26件，占2.56%；其他处理193件，占19.00%。" in md
    assert "信息公开类行政复议56件，结果纠正10件；信息公开类行政诉讼50件，结果纠正1件" in md
    assert "（2023年分别为行政复议40件、行政诉讼0件）" in md
    assert "| 三、本年度办理结果 |" in md
    district = run_inprocess(capsys, "report", "annual", "--year", "2024", "--district", "测试区")
    assert district.out.startswith("# 上海市测试区2024年政府信息公开工作年度报告")
    assert "2024年，全区共收到政府信息公开申请1026件" in district.out
    unit = run_inprocess(capsys, "report", "annual", "--year", "2024", "--unit", "区教育局")
    assert unit.out.startswith("# 上海市测试区教育局2024年政府信息公开工作年度报告")
    # No comparison without last year's data: marked for the office, not invented.
    other = run_inprocess(capsys, "report", "annual", "--year", "2025", "--unit", "区政府办公室")
    assert "【待填写：与2024年的比较" not in other.out  # 2024 has data
    first = run_inprocess(capsys, "report", "annual", "--year", "2023", "--unit", "区政府办公室")
    assert "【待填写：与2022年的比较（系统中没有2022年的数据）】" in first.out


def test_check_of_a_year_without_data_says_so(
    directory: str, capsys: pytest.CaptureFixture[str]
) -> None:
    r = run_inprocess(capsys, "annual", "check", "--year", "2021", "--unit", "区教育局")
    assert r.code != 0
    assert "区教育局 2021 年没有年报数据（依申请公开登记或手工填报的表格），无法校验" in r.err
    assert "Traceback" not in r.err
