"""Unit directory import: encodings Excel writes, idempotence, every bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from models import Unit
from models.directory import find_unit, list_units, members, unit_groups
from tests.factories import HEADER, SMALL_DIRECTORY, write_units_csv
from zwgk.db import session_scope
from zwgk.errors import UserError
from zwgk.intake.directory import import_units


def _import(path: Path, district: str = "测试区"):  # type: ignore[no-untyped-def]
    with session_scope() as s:
        return import_units(session=s, path=path, district=district)


def _count() -> int:
    with session_scope() as s:
        return len(list(s.exec(select(Unit))))


@pytest.mark.parametrize(
    ("encoding", "newline"), [("utf-8", "\n"), ("utf-8-sig", "\r\n"), ("gb18030", "\r\n")]
)
def test_import_encodings(env: Path, tmp_path: Path, encoding: str, newline: str) -> None:
    path = write_units_csv(tmp_path / "u.csv", encoding=encoding, newline=newline)
    result = _import(path)
    assert result.created == len(SMALL_DIRECTORY)
    with session_scope() as s:
        office = find_unit(session=s, name="区政府办")
        assert office.name == "区政府办公室"
        assert office.aliases == ["区政府办", "区政务公开办"]


def test_import_twice_changes_nothing(env: Path, tmp_path: Path) -> None:
    path = write_units_csv(tmp_path / "u.csv")
    _import(path)
    with session_scope() as s:
        before = [(u.id, u.updated_at) for u in list_units(session=s)]
    again = _import(path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, len(SMALL_DIRECTORY))
    with session_scope() as s:
        assert [(u.id, u.updated_at) for u in list_units(session=s)] == before


def test_reimport_updates_in_place(env: Path, tmp_path: Path) -> None:
    _import(write_units_csv(tmp_path / "u.csv"))
    rows = [r[:] for r in SMALL_DIRECTORY]
    rows[1][3] = "new@test.example.gov.cn"
    result = _import(write_units_csv(tmp_path / "u2.csv", rows))
    assert (result.created, result.updated) == (0, 1)
    assert _count() == len(SMALL_DIRECTORY)


def test_groups_from_kind_plus_explicit(env: Path, tmp_path: Path) -> None:
    rows = [r[:] for r in SMALL_DIRECTORY]
    rows[2][5] = "教育卫生口|服务窗口"
    _import(write_units_csv(tmp_path / "u.csv", rows))
    with session_scope() as s:
        units = list_units(session=s)
        edu = find_unit(session=s, name="区教育局")
        assert "区政府各部门" in unit_groups(edu) and "教育卫生口" in unit_groups(edu)
        assert [u.name for u in members(units, "各街镇")] == ["华阳路街道", "新泾镇"]
        assert len(members(units, "各单位")) == len(SMALL_DIRECTORY)


def test_same_name_in_two_districts(env: Path, tmp_path: Path) -> None:
    path = write_units_csv(tmp_path / "u.csv")
    _import(path, "甲区")
    _import(path, "乙区")
    assert _count() == 2 * len(SMALL_DIRECTORY)


BAD = [
    (
        "missing column",
        dict(header=["name", "aliases", "kind", "email", "contact"]),
        "第 1 行",
        "groups",
    ),
    ("duplicate name", dict(rows=SMALL_DIRECTORY + [SMALL_DIRECTORY[1]]), "第 7 行", "name"),
    (
        "bad email",
        dict(rows=[SMALL_DIRECTORY[0], ["区教育局", "", "department", "jyj-at-example", "", ""]]),
        "第 3 行",
        "email",
    ),
    (
        "unknown kind",
        dict(rows=[["区教育局", "", "bureau", "jyj@test.example.gov.cn", "", ""]]),
        "第 2 行",
        "kind",
    ),
    (
        "empty name",
        dict(rows=[["", "", "department", "jyj@test.example.gov.cn", "", ""]]),
        "第 2 行",
        "name",
    ),
    (
        "alias is another unit",
        dict(
            rows=[
                ["区教育局", "区发改委", "department", "a@x.example.cn", "", ""],
                ["区发改委", "", "department", "b@x.example.cn", "", ""],
            ]
        ),
        "第 2 行",
        "aliases",
    ),
]


@pytest.mark.parametrize(("case", "kwargs", "row", "field"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_names_file_row_field_and_writes_nothing(
    env: Path, tmp_path: Path, case: str, kwargs: dict, row: str, field: str
) -> None:
    path = write_units_csv(tmp_path / "bad.csv", **kwargs)
    with pytest.raises(UserError) as exc:
        _import(path)
    msg = exc.value.message
    assert str(path) in msg and row in msg and field in msg
    assert _count() == 0


@pytest.mark.parametrize(
    ("kind", "guess"), [("departmnet", "department"), ("街道办", "街道办事处"), ("事业单位", None)]
)
def test_unknown_kind_names_the_closest_known_kind(
    env: Path, tmp_path: Path, kind: str, guess: str | None
) -> None:
    rows = [SMALL_DIRECTORY[0], ["华阳路街道", "", kind, "hyl@test.example.gov.cn", "", ""]]
    path = write_units_csv(tmp_path / "u.csv", rows)
    with pytest.raises(UserError) as exc:
        _import(path)
    msg = exc.value.message
    assert f"文件 {path} 第 3 行，字段「kind」：未知类别「{kind}」" in msg
    if guess:
        assert f"是否为「{guess}」" in msg
    else:
        assert "是否为" not in msg
    assert "street（街道）" in msg
    assert _count() == 0


def test_kind_accepts_chinese_words(env: Path, tmp_path: Path) -> None:
    rows = [["华阳路街道", "", "街道", "hyl@test.example.gov.cn", "", ""]]
    _import(write_units_csv(tmp_path / "u.csv", rows))
    with session_scope() as s:
        assert find_unit(session=s, name="华阳路街道").kind == "street"


def test_header_order_and_case_do_not_matter(env: Path, tmp_path: Path) -> None:
    header = ["Email", "Name", "Kind", "Aliases", "Groups", "Contact"]
    order = [HEADER.index(h.lower()) for h in header]
    rows = [[r[i] for i in order] for r in SMALL_DIRECTORY]
    _import(write_units_csv(tmp_path / "u.csv", rows, header=header))
    assert _count() == len(SMALL_DIRECTORY)
