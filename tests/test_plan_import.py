"""The three seed task tables, from every format, against hand-checked expectations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import select

from models import PlanTask
from tests.cli import run_inprocess
from zwgk.db import session_scope

FIXTURES = Path(__file__).parent / "fixtures" / "plans"
PLANS = {
    "changning-2022": ("长宁区", 2022, "2022-03-30"),
    "baoshan-2023": ("宝山区", 2023, "2023-05-22"),
    "qingpu-2022": ("青浦区", 2022, "2022-06-16"),
}
FORMATS = [".csv", "-gb18030.csv", "-bom.tsv", ".xlsx", ".docx"]


def _expected_leads(want: dict) -> set[str]:  # type: ignore[type-arg]
    """The fixtures' role annotations predate issue 11, when a cell naming no 牵头 made every
    unit it names a lead; now such a cell has no lead (its units are responsible)."""
    return set(want["lead_units"]) if "牵头" in want["units_text"] else set()


def _setup(capsys: pytest.CaptureFixture[str], stem: str) -> tuple[str, int, str]:
    district, year, issued = PLANS[stem]
    r = run_inprocess(
        capsys, "units", "import", str(FIXTURES / f"{stem}-units.csv"), "--district", district
    )
    assert r.code == 0, r.err
    return district, year, issued


def _import(capsys, stem: str, fmt: str, *extra: str):  # type: ignore[no-untyped-def]
    district, year, issued = PLANS[stem]
    return run_inprocess(
        capsys,
        "plan",
        "import",
        str(FIXTURES / f"{stem}{fmt}"),
        "--district",
        district,
        "--year",
        str(year),
        "--issued",
        issued,
        *extra,
    )


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("stem", list(PLANS))
def test_every_row_parses_from_every_format(
    env: Path, capsys: pytest.CaptureFixture[str], stem: str, fmt: str
) -> None:
    _setup(capsys, stem)
    expected = json.loads((FIXTURES / f"{stem}-expected.json").read_text(encoding="utf-8"))
    r = _import(capsys, stem, fmt, "--dry-run", "--json")
    assert r.code == 0, r.err
    rows = json.loads(r.out)
    assert len(rows) == len(expected)
    for got, want in zip(rows, expected, strict=True):
        where = f"{stem}{fmt} 序号 {want['seq']}"
        assert got["seq"] == want["seq"], where
        assert got["due"] is not None or got["recurrence"] != "once", where
        assert set(got["lead_units"]) == _expected_leads(want), where
        assert set(got["units"]) == set(want["units"]), where
        assert set(got["cooperating_units"]) == set(want["cooperating_units"]), where


@pytest.mark.parametrize("stem", list(PLANS))
def test_dry_run_matches_real_import_and_reimport_is_idempotent(
    env: Path, capsys: pytest.CaptureFixture[str], stem: str
) -> None:
    _setup(capsys, stem)
    dry = json.loads(_import(capsys, stem, ".xlsx", "--dry-run", "--json").out)
    with session_scope() as s:
        assert list(s.exec(select(PlanTask))) == []
    real = _import(capsys, stem, ".xlsx", "--json")
    assert real.code == 0, real.err
    assert json.loads(real.out) == dry
    with session_scope() as s:
        tasks = list(s.exec(select(PlanTask).order_by(PlanTask.id)))  # type: ignore[arg-type]
    assert len(tasks) == len(dry)
    assert [t.due.isoformat() if t.due else None for t in tasks] == [d["due"] for d in dry]
    again = _import(capsys, stem, ".docx")
    assert again.code == 0 and f"未变 {len(dry)}" in again.out
    with session_scope() as s:
        assert len(list(s.exec(select(PlanTask)))) == len(dry)


def test_known_due_dates(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _setup(capsys, "qingpu-2022")
    rows = {
        r["seq"]: r
        for r in json.loads(_import(capsys, "qingpu-2022", ".csv", "--dry-run", "--json").out)
    }
    # Row 12: "2月20日前" in a plan issued in June means next February.
    assert rows["12"]["due"] == "2023-02-20"
    assert any("次年" in w or "2023-02-20" in w for w in rows["12"]["warnings"])


def test_unknown_unit_and_bad_phrase_write_nothing(
    env: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from tests.factories import write_csv

    _setup(capsys, "changning-2022")
    path = write_csv(
        tmp_path / "plan.csv",
        ["序号", "任务名称", "任务内容", "责任单位", "时间节点"],
        [
            ["1", "做好公文公开", "内容", "区政府办公室", "6月底前"],
            ["2", "年报", "内容", "区不存在局、区教育局", "1月底"],
            ["3", "开放月", "内容", "各单位", "看情况"],
        ],
    )
    r = run_inprocess(
        capsys,
        "plan",
        "import",
        str(path),
        "--district",
        "长宁区",
        "--year",
        "2022",
        "--issued",
        "2022-03-30",
    )
    assert (
        r.code == 2
        and "第 4 行" in r.err
        and "看情况" in r.err
        and "区不存在局" in r.err
        and "第 3 行" in r.err
    )
    # The unknown name with its row, column and cell (no close name: no suggestion).
    assert (
        "第 3 行（序号 2），字段「责任单位」：「区不存在局、区教育局」中的「区不存在局」不在名录中\n"
        in (r.err)
    )
    assert "是否为" not in r.err
    with session_scope() as s:
        assert list(s.exec(select(PlanTask))) == []
    lenient = run_inprocess(
        capsys,
        "plan",
        "import",
        str(path),
        "--district",
        "长宁区",
        "--year",
        "2022",
        "--issued",
        "2022-03-30",
        "--lenient",
        "--create-unknown",
    )
    assert lenient.code == 0, lenient.err
    assert "区不存在局" in lenient.err and "看情况" in lenient.err


def test_legacy_formats_are_refused(
    env: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _setup(capsys, "changning-2022")
    (tmp_path / "plan.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    r = run_inprocess(
        capsys,
        "plan",
        "import",
        str(tmp_path / "plan.xls"),
        "--district",
        "长宁区",
        "--year",
        "2022",
        "--issued",
        "2022-03-30",
    )
    assert r.code == 2 and ".xlsx" in r.err


@pytest.mark.prefect
@pytest.mark.usefixtures("prefect_harness")
def test_work_plan_run_sends_one_mail_per_unit(
    env: Path, smtp, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    _setup(capsys, "qingpu-2022")
    assert _import(capsys, "qingpu-2022", ".xlsx").code == 0
    r = run_inprocess(
        capsys,
        "run",
        "work-plan",
        "--period",
        "2022",
        "--district",
        "青浦区",
        "--today",
        "2022-06-20",
    )
    assert r.code == 0, r.err
    recipients = [m.rcpt_tos[0] for m in smtp.messages]
    assert len(recipients) == len(set(recipients)) > 10
    office = next(m for m in smtp.messages if "区政府办公室" in m.subject)
    assert office.text().count("第") > 5 and "牵头" in office.text()
    again = run_inprocess(
        capsys,
        "run",
        "work-plan",
        "--period",
        "2022",
        "--district",
        "青浦区",
        "--today",
        "2022-06-20",
    )
    assert again.code == 0 and "发送通知 0 封" in again.out


def test_reimport_of_corrected_table_updates_and_retires(
    env: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import csv

    _setup(capsys, "qingpu-2022")
    assert _import(capsys, "qingpu-2022", ".csv").code == 0
    with (FIXTURES / "qingpu-2022.csv").open(encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    deadline = next(i for i, h in enumerate(header) if h in ("时间节点", "完成时间"))
    body[0][deadline] = "12月底前"  # a corrected deadline
    corrected = tmp_path / "qingpu-corrected.csv"
    with corrected.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, *body[:-1]])  # the last task removed
    district, year, issued = PLANS["qingpu-2022"]
    r = run_inprocess(
        capsys,
        "plan",
        "import",
        str(corrected),
        "--district",
        district,
        "--year",
        str(year),
        "--issued",
        issued,
    )
    assert r.code == 0, r.err
    assert "新增 0，更新 1" in r.out and "撤销 1" in r.out
    with session_scope() as s:
        tasks = list(s.exec(select(PlanTask)))
    assert len(tasks) == 100 and sum(t.retired for t in tasks) == 1
    assert next(t for t in tasks if t.seq == body[0][0]).due.isoformat() == "2022-12-31"  # type: ignore[union-attr]


# A Shanghai district's directory with the units of its 集成式发布 cell and a group of enterprises.
ISSUE_11_UNITS = [
    ["区政府办公室", "区政府办", "office", "gkb@test.example.gov.cn", "王静", ""],
    ["区发展改革委", "区发改委", "department", "fgw@test.example.gov.cn", "李明", ""],
    ["区经委", "", "department", "jw@test.example.gov.cn", "张伟", ""],
    ["区教育局", "", "department", "jyj@test.example.gov.cn", "陈丽", ""],
    ["区科委", "", "department", "kw@test.example.gov.cn", "刘洋", ""],
    ["区民政局", "", "department", "mzj@test.example.gov.cn", "赵敏", ""],
    ["区市场监管局", "", "department", "scj@test.example.gov.cn", "孙强", ""],
    ["区房管局", "", "department", "fgj@test.example.gov.cn", "周杰", ""],
    ["区城投集团", "", "department", "ct@test.example.gov.cn", "吴刚", "各区属国有企业"],
    ["华阳路街道", "", "street", "hyl@test.example.gov.cn", "蔡琳", ""],
]
INTEGRATED = (
    "区发展改革委、区经委、区教育局、区科委、区民政局、区市场监管局、区房管局"
    "等集成式发布工作牵头单位"
)


def _import_rows(capsys, tmp_path: Path, rows: list[list[str]]):  # type: ignore[no-untyped-def]
    from tests.factories import PLAN_HEADER, write_csv, write_units_csv

    units = write_units_csv(tmp_path / "units.csv", ISSUE_11_UNITS)
    r = run_inprocess(capsys, "units", "import", str(units), "--district", "测试区")
    assert r.code == 0, r.err
    path = write_csv(tmp_path / "plan.csv", PLAN_HEADER, rows)
    return run_inprocess(
        capsys,
        "plan",
        "import",
        str(path),
        "--district",
        "测试区",
        "--year",
        "2026",
        "--issued",
        "2026-03-02",
        "--json",
    )


def test_deng_descriptive_lead_unit_cell_imports_with_seven_leads(
    env: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Issue 11: the one cell of 79 that refused a whole Shanghai plan now imports."""
    r = _import_rows(
        capsys,
        tmp_path,
        [
            ["1", "集成式发布", "…", INTEGRATED, "6月底前"],
            ["2", "更新政府信息公开指南", "…", "区民政局、区教育局", "6月底前"],
        ],
    )
    assert r.code == 0, r.err
    first, second = json.loads(r.out)
    seven = ["区发展改革委", "区经委", "区教育局", "区科委", "区民政局", "区市场监管局", "区房管局"]
    assert first["lead_units"] == first["units"] == seven
    # A list naming nobody to lead: both responsible, no lead.
    assert (second["lead_units"], second["units"]) == ([], ["区教育局", "区民政局"])


def test_near_miss_unit_is_refused_with_the_closest_name(
    env: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    r = _import_rows(
        capsys,
        tmp_path,
        [
            ["1", "国企信息公开", "…", "区民政局、各区属国有企企", "6月底前"],
            ["2", "年报", "…", "区教育", "1月底"],
            ["3", "年报", "…", "区教育", "1月底"],
        ],
    )
    assert r.code == 2
    assert str(tmp_path / "plan.csv") in r.err and "未导入任何数据" in r.err
    assert (
        "第 2 行（序号 1），字段「责任单位」：「区民政局、各区属国有企企」中的"
        "「各区属国有企企」不在名录中，是否为「各区属国有企业」？"
    ) in r.err
    assert (
        "第 3 行（序号 2），字段「责任单位」：「区教育」不在名录中，是否为「区教育局」？"
        "（另见第 4 行（序号 3））"
    ) in r.err
    with session_scope() as s:
        assert list(s.exec(select(PlanTask))) == []
