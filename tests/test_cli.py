"""The command as a user runs it: real subprocesses, exit codes, Chinese messages, no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli import Result, run_subprocess
from tests.factories import SMALL_DIRECTORY, write_csv, write_units_csv
from tests.holidays import HOLIDAYS_CSV


@pytest.fixture
def cli_env(tmp_path: Path, database_url: str | None) -> dict[str, str]:
    env = {
        "ZWGK_VAR_DIR": str(tmp_path / "var"),
        "ZWGK_SMTP_HOST": "127.0.0.1",
        "ZWGK_SMTP_PORT": "9",
    }
    if database_url:
        env["ZWGK_DATABASE_URL"] = database_url
    return env


def _assert_clean_error(r: Result, *fragments: str) -> None:
    assert r.code != 0
    assert "Traceback" not in r.err and "Traceback" not in r.out
    assert r.err.startswith("错误：")
    for f in fragments:
        assert f in r.err, r.err


def _tables(cli_env: dict[str, str]) -> dict[str, int]:
    """Row count of every app table (nothing when the database does not exist yet)."""
    from sqlalchemy import create_engine, inspect, text

    url = cli_env.get("ZWGK_DATABASE_URL")
    if url is None:
        db = Path(cli_env["ZWGK_VAR_DIR"]) / "zwgk.db"
        if not db.exists():
            return {}
        url = f"sqlite:///{db}"
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            names = inspect(conn).get_table_names()
            return {
                n: conn.execute(text(f'select count(*) from "{n}"')).scalar_one() for n in names
            }
    finally:
        engine.dispose()


def test_add_workdays_json(cli_env: dict[str, str]) -> None:
    # The calendar's data given as the office would (the tests' 2020–2026 arrangements), not
    # whatever the installed chinesecalendar release holds.
    r = run_subprocess("calendar", "holidays", "import", str(HOLIDAYS_CSV), env=cli_env)
    assert r.code == 0, r.err
    r = run_subprocess("calendar", "add-workdays", "2026-09-30", "3", "--json", env=cli_env)
    assert r.code == 0
    assert json.loads(r.out) == {"date": "2026-10-10", "provisional": False}


def test_add_workdays_provisional_warns(cli_env: dict[str, str]) -> None:
    # A year no holiday data will cover for a long while (2027 would change when a
    # chinesecalendar release adds it): estimated, 元旦 off, and said so.
    r = run_subprocess("calendar", "add-workdays", "2097-12-30", "3", "--json", env=cli_env)
    assert r.code == 0 and json.loads(r.out) == {"date": "2098-01-03", "provisional": True}
    assert "暂定" in r.err


def test_add_workdays_bad_date(cli_env: dict[str, str]) -> None:
    _assert_clean_error(
        run_subprocess("calendar", "add-workdays", "2026-02-30", "3", env=cli_env), "2026-02-30"
    )


def test_init_sample_and_units_list_json(cli_env: dict[str, str]) -> None:
    assert run_subprocess("init", "--sample", env=cli_env).code == 0
    r = run_subprocess("units", "list", "--json", env=cli_env)
    units = json.loads(r.out)
    assert len(units) == 50
    office = units[0]
    assert set(office) >= {"name", "aliases", "kind", "email", "contact", "groups"}
    assert office["kind"] == "office" and isinstance(office["aliases"], list)
    # --if-empty keeps an existing directory as it is.
    assert "跳过" in run_subprocess("init", "--sample", "--if-empty", env=cli_env).out


def test_units_import_twice(cli_env: dict[str, str], tmp_path: Path) -> None:
    path = write_units_csv(tmp_path / "u.csv", encoding="gb18030", newline="\r\n")
    first = run_subprocess("units", "import", str(path), "--district", "测试区", env=cli_env)
    assert first.code == 0 and "新增 5 个单位" in first.out
    second = run_subprocess("units", "import", str(path), "--district", "测试区", env=cli_env)
    assert "新增 0 个单位，更新 0 个，未变 5 个" in second.out


@pytest.mark.parametrize(
    ("rows", "header", "fragments"),
    [
        (SMALL_DIRECTORY, ["name", "aliases", "kind", "email", "contact"], ["第 1 行", "groups"]),
        (SMALL_DIRECTORY + [SMALL_DIRECTORY[0]], None, ["第 7 行", "name", "重复"]),
        (
            [["区教育局", "", "department", "not-an-email", "", ""]],
            None,
            ["第 2 行", "email", "not-an-email"],
        ),
        (
            [["区教育局", "", "ministry", "a@b.example.cn", "", ""]],
            None,
            ["第 2 行", "kind", "ministry"],
        ),
    ],
    ids=["missing-column", "duplicate-name", "bad-email", "unknown-kind"],
)
def test_units_import_bad_input(
    cli_env: dict[str, str], tmp_path: Path, rows, header, fragments
) -> None:  # type: ignore[no-untyped-def]
    path = write_units_csv(tmp_path / "bad.csv", rows, header=header)
    r = run_subprocess("units", "import", str(path), "--district", "测试区", env=cli_env)
    _assert_clean_error(r, str(path), *fragments)
    assert _tables(cli_env).get("unit", 0) == 0


def test_units_import_missing_file(cli_env: dict[str, str], tmp_path: Path) -> None:
    _assert_clean_error(
        run_subprocess(
            "units", "import", str(tmp_path / "nope.csv"), "--district", "x", env=cli_env
        ),
        "nope.csv",
    )


def test_holiday_override_bad_date(cli_env: dict[str, str], tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "h.csv",
        ["date", "kind", "name"],
        [["2027-01-01", "holiday", "元旦"], ["2027-13-01", "holiday", ""]],
    )
    r = run_subprocess("calendar", "holidays", "import", str(path), env=cli_env)
    _assert_clean_error(r, str(path), "第 3 行", "date", "2027-13-01")
    assert _tables(cli_env).get("holidayoverride", 0) == 0


def test_holiday_override_changes_add_workdays(cli_env: dict[str, str], tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "h.csv",
        ["date", "kind", "name"],
        [
            ["2098-01-02", "holiday", "假想"],
            ["2098-01-03", "holiday", "假想"],
            ["2098-01-04", "workday", "假想调休"],
        ],
    )
    assert run_subprocess("calendar", "holidays", "import", str(path), env=cli_env).code == 0
    r = run_subprocess("calendar", "add-workdays", "2098-01-01", "1", "--json", env=cli_env)
    # Thu 2 and Fri 3 Jan made holidays, Sat 4 Jan a working day: exact, not estimated.
    assert json.loads(r.out) == {"date": "2098-01-04", "provisional": False}


def test_unknown_obligation(cli_env: dict[str, str]) -> None:
    _assert_clean_error(
        run_subprocess("run", "monthly-filings", "--period", "2026-11", env=cli_env),
        "monthly-filings",
        "monthly-filing",
    )


@pytest.mark.parametrize(
    ("slug", "period"),
    [
        ("monthly-filing", "2026-13"),
        ("monthly-filing", "2026"),
        ("annual-report", "2026-11"),
        ("quarterly-progress", "2026-Q5"),
    ],
)
def test_bad_period(cli_env: dict[str, str], slug: str, period: str) -> None:
    _assert_clean_error(run_subprocess("run", slug, "--period", period, env=cli_env), period)
    assert _tables(cli_env).get("checklistitem", 0) == 0


def test_complete_bad_inputs(cli_env: dict[str, str]) -> None:
    _assert_clean_error(
        run_subprocess("complete", "999", "--evidence", "https://a.example.cn/x", env=cli_env),
        "999",
    )
    _assert_clean_error(
        run_subprocess("complete", "1", "--evidence", "www.example.cn", env=cli_env),
        "www.example.cn",
    )


def test_dry_run_in_a_subprocess_writes_nothing(cli_env: dict[str, str]) -> None:
    assert run_subprocess("init", "--sample", env=cli_env).code == 0
    r = run_subprocess("run", "monthly-filing", "--period", "2026-11", "--dry-run", env=cli_env)
    assert r.code == 0 and "将新建事项 50 条" in r.out
    tables = _tables(cli_env)
    assert tables["checklistitem"] == 0 and tables["outboxmessage"] == 0


def test_run_without_directory_says_what_to_do(cli_env: dict[str, str]) -> None:
    _assert_clean_error(
        run_subprocess("run", "monthly-filing", "--period", "2026-11", "--dry-run", env=cli_env),
        "zwgk init --sample",
    )


def test_a_default_district_without_units_is_named_not_ignored(cli_env: dict[str, str]) -> None:
    """ZWGK_DEFAULT_DISTRICT set to a district the directory lacks: `units import` would
    write there, so a run must not quietly work on another district instead."""
    assert run_subprocess("init", "--sample", env=cli_env).code == 0
    env = {**cli_env, "ZWGK_DEFAULT_DISTRICT": "宝山区"}
    r = run_subprocess("run", "monthly-filing", "--period", "2026-11", "--dry-run", env=env)
    _assert_clean_error(r, "ZWGK_DEFAULT_DISTRICT 为「宝山区」", "名录中有：长宁区")


@pytest.mark.parametrize(
    ("args", "column", "cells"),
    [
        (("obligations",), "事项", ["年度重大行政决策事项目录公开", "每季度上报工作要点完成情况"]),
        (("obligations",), "时限", ["每月25日", "期末后10个工作日内"]),
        (("event", "kinds"), "时限", ["10 个工作日内", "1 个工作日内答复简单网上留言"]),
    ],
)
def test_listings_align_chinese_columns_by_display_width(
    cli_env: dict[str, str], args: tuple[str, ...], column: str, cells: list[str]
) -> None:
    from rich.cells import cell_len

    r = run_subprocess(*args, env=cli_env)
    assert r.code == 0, r.err
    header, *rows = r.out.splitlines()
    starts = {cell_len(header[: header.index(column)])}
    for cell in cells:
        (line,) = [row for row in rows if cell in row]
        starts.add(cell_len(line[: line.index(cell)]))
    assert len(starts) == 1, r.out


@pytest.mark.parametrize(
    "args", [["--help"], ["report", "bulletin", "--help"], ["run", "--help"], ["units"]]
)
def test_help_pages_are_chinese(cli_env: dict[str, str], args: list[str]) -> None:
    """typer's and click's own words (panel titles, usage prefix, the help option) in Chinese."""
    r = run_subprocess(*args)
    page = r.out + r.err
    assert "用法：" in page and "显示本说明并退出。" in page, page
    for english in (
        "Usage:",
        "Options",
        "Commands",
        "Show this message",
        "[default:",
        "[required]",
        "<str>",
        "<bool>",
        "<int>",
        "<Path>",
    ):
        assert english not in page, (english, page)
