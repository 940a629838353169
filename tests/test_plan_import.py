"""The three seed task tables, from every format, against hand-checked expectations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import select

from tests.cli import run_inprocess
from zwgk.db import session_scope
from zwgk.models import PlanTask

FIXTURES = Path(__file__).parent / "fixtures" / "plans"
PLANS = {
    "changning-2022": ("长宁区", 2022, "2022-03-30"),
    "baoshan-2023": ("宝山区", 2023, "2023-05-22"),
    "qingpu-2022": ("青浦区", 2022, "2022-06-16"),
}
FORMATS = [".csv", "-gb18030.csv", "-bom.tsv", ".xlsx", ".docx"]


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
        assert set(got["lead_units"]) == set(want["lead_units"]), where
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
