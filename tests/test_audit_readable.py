"""The audit log as the office reads it (issue 14 walkthrough): /admin/audit and ``zwgk audit
list`` show the before/after, the operator and the object in Chinese; ``--json`` keeps the
stored keys."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests import test_admin_web as admin_web
from tests.cli import run_inprocess
from tests.factories import SMALL_DIRECTORY, write_units_csv
from tests.test_admin_web import _audit, login
from workflows.registry import REGISTRY
from zwgk.access.audit import record
from zwgk.db import session_scope

accounts = admin_web.accounts
client = admin_web.client

RAW = ("created:", "unchanged", "flow_run_id", "obligation:", "period:", "role:", "active:")


def _run_entry() -> None:
    with session_scope() as s:
        record(
            session=s,
            user="wangjing",
            action="run",
            target="flow-run 5324c1fe-0000-4000-8000-000000000001",
            district="测试区",
            detail="启动工作流",
            after={
                "flow_run_id": "5324c1fe-0000-4000-8000-000000000001",
                "obligation": "monthly-filing",
                "period": "2026-11",
                "district": "测试区",
            },
        )


def test_audit_page_and_cli_show_details_in_chinese(
    client: TestClient,
    directory: str,
    accounts: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = write_units_csv(
        tmp_path / "名录.csv", [["新设局", "", "department", "xs@test.example.gov.cn", "张三", ""]]
    )
    r = run_inprocess(capsys, "units", "import", str(path), "--district", directory)
    assert r.code == 0, r.err
    _run_entry()
    login(client, "wangjing")
    page = client.get("/admin/audit").text
    title = REGISTRY["monthly-filing"].title
    assert "新增：1" in page and "未变：" in page
    assert f"事项：{title}" in page and "期间：2026年11月" in page
    assert "工作流运行：5324c1fe" in page and "对象" in page
    assert "<td>工作流运行 5324c1fe-0000-4000-8000-000000000001</td>" in page
    assert "角色：管理员" in page and "启用：是" in page and "区：测试区" in page
    assert "区：全部区" in page  # wangjing: an account for every district
    assert "命令行（" in page and "cli:" not in page
    for raw in RAW:
        assert raw not in page, raw

    out = run_inprocess(capsys, "audit", "list").out
    assert "命令行（" in out and "cli:" not in out
    assert re.search(r"\n20\d\d年\d{1,2}月\d{1,2}日 \d\d:\d\d:\d\d ", out), out
    assert "期间：2026年11月" in out and "工作流运行 5324c1fe" in out and "新增：1" in out
    for raw in RAW:
        assert raw not in out, raw

    entries = json.loads(run_inprocess(capsys, "audit", "list", "--json").out)
    (run,) = [e for e in entries if e["action"] == "run"]
    assert run["after"]["period"] == "2026-11" and run["target"].startswith("flow-run ")
    (imp,) = [e for e in entries if e["action"] == "import-units"]
    assert imp["user"].startswith("cli:")


def _changed_directory(tmp_path: Path, name: str) -> Path:
    """The small directory with 区教育局's address and contact changed."""
    rows = [list(r) for r in SMALL_DIRECTORY]
    rows[2][3], rows[2][4] = "jiaoyuju@test.example.gov.cn", "陈立"
    return write_units_csv(tmp_path / name, rows)


def test_units_import_from_the_web_shows_and_audits_old_and_new(
    client: TestClient, directory: str, accounts: None, tmp_path: Path
) -> None:
    from tests.test_admin_imports import _confirm, _token, _upload

    csrf = login(client, "wangjing")
    r = _upload(client, "units", _changed_directory(tmp_path, "名录.csv"), csrf, district=directory)
    assert r.status_code == 200, r.text
    assert "邮箱：jyj@test.example.gov.cn → jiaoyuju@test.example.gov.cn" in r.text
    assert "联络员：陈丽 → 陈立" in r.text and "更新 1 个" in r.text
    assert _confirm(client, "units", csrf, _token(r.text)).status_code == 303
    (entry,) = _audit("import-units")
    assert entry.before == {"区教育局 邮箱": "jyj@test.example.gov.cn", "区教育局 联络员": "陈丽"}
    assert entry.after == {
        "created": 0,
        "updated": 1,
        "unchanged": 4,
        "区教育局 邮箱": "jiaoyuju@test.example.gov.cn",
        "区教育局 联络员": "陈立",
    }
    page = client.get("/admin/audit").text
    assert "区教育局 邮箱：jyj@test.example.gov.cn<br>" in page
    assert "区教育局 邮箱：jiaoyuju@test.example.gov.cn<br>" in page and "更新：1" in page


def test_units_import_from_the_cli_audits_old_and_new(
    directory: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _changed_directory(tmp_path, "名录.csv")
    r = run_inprocess(capsys, "units", "import", str(path), "--district", directory)
    assert r.code == 0, r.err
    assert "区教育局 邮箱：jyj@test.example.gov.cn → jiaoyuju@test.example.gov.cn" in r.out
    entries = json.loads(run_inprocess(capsys, "audit", "list", "--json").out)
    (entry,) = [e for e in entries if e["action"] == "import-units"]
    assert entry["before"] == {
        "区教育局 邮箱": "jyj@test.example.gov.cn",
        "区教育局 联络员": "陈丽",
    }
    assert entry["after"]["区教育局 联络员"] == "陈立" and entry["after"]["updated"] == 1
    out = run_inprocess(capsys, "audit", "list").out
    assert "区教育局 联络员：陈丽" in out and "区教育局 联络员：陈立" in out


def test_a_large_units_import_audits_the_first_50_changes(
    directory: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        [f"测试单位{n:02d}", "", "department", f"u{n}@test.example.gov.cn", "甲", ""]
        for n in range(60)
    ]
    first = write_units_csv(tmp_path / "a.csv", rows)
    assert run_inprocess(capsys, "units", "import", str(first), "--district", directory).code == 0
    for row in rows:
        row[4] = "乙"
    second = write_units_csv(tmp_path / "b.csv", rows)
    assert run_inprocess(capsys, "units", "import", str(second), "--district", directory).code == 0
    entries = json.loads(run_inprocess(capsys, "audit", "list", "--json").out)
    latest = entries[0]
    assert latest["action"] == "import-units" and latest["after"]["updated"] == 60
    assert len(latest["before"]) == 50 and latest["after"]["more"] == 10
    assert (
        latest["before"]["测试单位00 联络员"] == "甲" and "测试单位59 联络员" not in latest["after"]
    )
    assert "其余改动：等10项" in run_inprocess(capsys, "audit", "list").out


def test_an_unknown_obligation_is_named_by_title(
    client: TestClient, directory: str, accounts: None
) -> None:
    login(client, "wangjing")
    r = client.get("/admin/reports/progress.xlsx?obligation=nope&period=2026-11")
    assert r.status_code == 400 and "未知的事项「nope」" in r.text
    title = REGISTRY["monthly-filing"].title
    assert f"{title}（monthly-filing）" in r.text
    assert "：decision-catalogue、" not in r.text and "、monthly-filing、" not in r.text
