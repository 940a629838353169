"""A district's own unit kinds (事业单位, 国有企业, 片区管理局, 乡) and the groups they imply."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import select

from models import Unit
from models.directory import declared_kinds, find_unit, unit_groups
from tests.cli import run_inprocess
from tests.factories import PLAN_HEADER, write_csv
from zwgk.db import session_scope

DISTRICT = "示例区"
KINDS = [
    ["事业单位", "区属事业单位", "各区属事业单位"],
    ["国有企业", "区属国有企业", "各区属国有企业|各国有企业"],
    ["片区管理局", "", "各片区管理局"],
    ["乡", "乡人民政府", "各乡镇人民政府（街道办事处）|各乡镇"],
    # A default kind takes extra group names of the district's own.
    ["镇", "", "各乡镇人民政府（街道办事处）|各乡镇"],
    ["street", "", "各乡镇人民政府（街道办事处）"],
]
UNITS = [
    ["区政府办公室", "区政府办", "office", "gkb@sl.example.gov.cn", "王静", ""],
    ["区发展改革局", "区发改局", "department", "fgj@sl.example.gov.cn", "李明", ""],
    ["区教育局", "", "部门", "jyj@sl.example.gov.cn", "陈丽", ""],
    ["区融媒体中心", "", "事业单位", "rmt@sl.example.gov.cn", "彭辉", ""],
    ["区城市建设投资集团", "区城投集团", "国有企业", "ct@sl.example.gov.cn", "赵磊", ""],
    ["区文化旅游投资集团", "", "区属国有企业", "wl@sl.example.gov.cn", "高峰", ""],
    ["东部片区管理局", "", "片区管理局", "db@sl.example.gov.cn", "林娜", ""],
    ["城关街道", "", "街道办事处", "cg@sl.example.gov.cn", "蔡琳", ""],
    ["河口镇", "", "镇", "hk@sl.example.gov.cn", "邹洁", ""],
    ["石门乡", "", "乡", "sm@sl.example.gov.cn", "熊伟", ""],
]
HEADER = ["name", "aliases", "kind", "email", "contact", "groups"]
SOES = {"区城市建设投资集团", "区文化旅游投资集团"}
TOWNSHIPS = {"城关街道", "河口镇", "石门乡"}


def _setup(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    kinds = write_csv(tmp_path / "kinds.csv", ["kind", "label", "groups"], KINDS)
    r = run_inprocess(capsys, "units", "kinds", "import", str(kinds), "--district", DISTRICT)
    assert r.code == 0 and "新增 6 个类别" in r.out, r.err
    units = write_csv(tmp_path / "units.csv", HEADER, UNITS)
    r = run_inprocess(capsys, "units", "import", str(units), "--district", DISTRICT)
    assert r.code == 0 and "新增 10 个单位" in r.out, r.err


def _plan(capsys: pytest.CaptureFixture[str], tmp_path: Path, cells: list[str]):  # type: ignore[no-untyped-def]
    rows = [[str(i), f"任务{i}", "内容", cell, "12月底前"] for i, cell in enumerate(cells, 1)]
    path = write_csv(tmp_path / "plan.csv", PLAN_HEADER, rows)
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
        "2026-03-02",
        "--dry-run",
        "--json",
    )


def test_units_take_the_districts_own_kinds(
    env: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _setup(capsys, tmp_path)
    with session_scope() as s:
        declared = declared_kinds(session=s, district=DISTRICT)
        soe = find_unit(session=s, name="区文化旅游投资集团")
        assert soe.kind == "国有企业"  # written by its label, stored by its name
        assert unit_groups(soe, declared) == ["各区属国有企业", "各国有企业", "各单位"]
        town = find_unit(session=s, name="河口镇")
        assert town.kind == "town"
        assert "各街镇" in unit_groups(town, declared)
        assert "各乡镇" in unit_groups(town, declared)
        assert "各乡镇" not in unit_groups(town)  # without the district's kinds: defaults only
    listed = run_inprocess(capsys, "units", "list", "--district", DISTRICT).out
    [row] = [line for line in listed.splitlines() if "区城市建设投资集团" in line]
    assert row.split() == [
        "示例区",
        "区城市建设投资集团",
        "区城投集团",
        "区属国有企业",
        *row.split()[4:],
    ]
    kinds = {line.split()[1]: line.split()[2] for line in listed.splitlines()[1:-1]}
    assert kinds["东部片区管理局"] == "片区管理局"  # no label: shown by its name
    assert kinds["河口镇"] == "镇"
    kinds = run_inprocess(capsys, "units", "kinds", "list", "--district", DISTRICT).out
    assert "示例区  国有企业  [区属国有企业]  组名：各区属国有企业、各国有企业" in kinds


def test_plan_groups_resolve_to_units_of_the_declared_kinds(
    env: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _setup(capsys, tmp_path)
    r = _plan(
        capsys,
        tmp_path,
        [
            "各区属国有企业",
            "区发展改革局牵头，各乡镇人民政府（街道办事处）配合",
            "各片区管理局、各区属事业单位",
            "区政府各部门",
            "各单位",
            "区城投集团",
        ],
    )
    assert r.code == 0, r.err
    rows = {row["seq"]: row for row in json.loads(r.out)}
    assert set(rows["1"]["units"]) == SOES and rows["1"]["lead_units"] == []
    assert rows["2"]["lead_units"] == ["区发展改革局"]
    assert set(rows["2"]["cooperating_units"]) == TOWNSHIPS
    assert set(rows["3"]["units"]) == {"东部片区管理局", "区融媒体中心"}
    assert set(rows["4"]["units"]) == {"区发展改革局", "区教育局"}  # not the enterprises
    assert set(rows["5"]["units"]) == {u[0] for u in UNITS}
    assert rows["6"]["units"] == ["区城市建设投资集团"]


def test_a_typo_in_a_declared_group_is_refused_with_the_group(
    env: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _setup(capsys, tmp_path)
    r = _plan(capsys, tmp_path, ["各区属国有企企"])
    assert r.code != 0
    assert "「各区属国有企企」不在名录中" in r.err and "各区属国有企业" in r.err


def test_unknown_kind_suggests_a_declared_kind(
    env: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _setup(capsys, tmp_path)
    path = write_csv(
        tmp_path / "more.csv",
        HEADER,
        [["西部片区管理局", "", "片区管理处", "xb@x.example.cn", "", ""]],
    )
    r = run_inprocess(capsys, "units", "import", str(path), "--district", DISTRICT)
    assert r.code != 0
    assert (
        f"文件 {path} 第 2 行，字段「kind」：未知类别「片区管理处」，是否为「片区管理局」？"
        in r.err
    )
    with session_scope() as s:
        assert find_unit(session=s, name="东部片区管理局") is not None
        assert len(list(s.exec(select(Unit)))) == len(UNITS)


def test_a_bad_kinds_file_names_file_row_field_and_writes_nothing(
    env: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rows = [["国有企业", "", "各区属国有企业"], ["", "", "各乡"], ["国有企业", "", ""]]
    path = write_csv(tmp_path / "kinds.csv", ["kind", "label", "groups"], rows)
    r = run_inprocess(capsys, "units", "kinds", "import", str(path), "--district", DISTRICT)
    assert r.code != 0
    assert f"文件 {path} 第 3 行，字段「kind」为空" in r.err
    assert f"文件 {path} 第 4 行，字段「kind」：类别「国有企业」与第 2 行重复" in r.err
    with session_scope() as s:
        assert declared_kinds(session=s, district=DISTRICT) == {}
