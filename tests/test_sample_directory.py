"""The sample directory (zwgk init --sample) takes 长宁区's own 2022 plan, every row right."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.cli import run_inprocess

FIXTURES = Path(__file__).parent / "fixtures" / "plans"
SAMPLE = Path(__file__).parents[1] / "zwgk" / "data" / "sample_units.csv"
# The fixture directory's canonical names that the sample directory spells differently (the
# sample keeps 区经委 with 区商务委 as an alias).
RENAMED = {"区商务委": "区经委"}


def _names(path: Path) -> set[str]:
    with path.open(encoding="utf-8", newline="") as f:
        return {row["name"] for row in csv.DictReader(f)}


def _mapped(names: list[str]) -> set[str]:
    return {RENAMED.get(n, n) for n in names}


def test_changning_2022_imports_into_the_sample_directory(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_inprocess(capsys, "init", "--sample").code == 0
    r = run_inprocess(
        capsys,
        "plan",
        "import",
        str(FIXTURES / "changning-2022.xlsx"),
        "--district",
        "长宁区",
        "--year",
        "2022",
        "--issued",
        "2022-03-30",
        "--dry-run",
        "--json",
    )
    assert r.code == 0, r.err
    rows = json.loads(r.out)
    expected = json.loads((FIXTURES / "changning-2022-expected.json").read_text("utf-8"))
    assert len(rows) == len(expected) == 115
    fixture_units = _mapped(sorted(_names(FIXTURES / "changning-2022-units.csv")))
    # Units the sample has beyond the plan's own directory: they may only come in through a
    # group phrase (区政府各部门, 各单位…), never in place of a unit the plan names.
    extra = _names(SAMPLE) - fixture_units
    assert extra and not (fixture_units - _names(SAMPLE))
    for got, want in zip(rows, expected, strict=True):
        where = f"序号 {want['seq']}：{want['units_text']}"
        assert got["seq"] == want["seq"], where
        lead_want = _mapped(want["lead_units"]) if "牵头" in want["units_text"] else set()
        assert set(got["lead_units"]) == lead_want, where
        for key in ("units", "cooperating_units"):
            named = set(got[key]) & fixture_units
            assert named == _mapped(want[key]), where
            beyond = set(got[key]) - fixture_units
            assert beyond <= extra, where
            assert not beyond or "各" in want["units_text"], where
