"""考核: scoring rules as data, each deduction with its reason, bad rules files refused."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from tests.cli import run_subprocess
from tests.reports.test_bulletin import AS_OF, _build
from workflows.registry import item_titles
from zwgk.db import session_scope
from zwgk.errors import UserError
from zwgk.reports.assessment import (
    DEFAULT_RULES,
    assessment_markdown,
    build_assessment,
    load_rules,
    parse_rules,
)


def _assess(directory: str, rules_text: str | None = None):  # type: ignore[no-untyped-def]
    rules = parse_rules(rules_text, source="测试") if rules_text else load_rules()
    with session_scope() as s:
        return build_assessment(
            session=s, year=2026, district=directory, today=AS_OF, rules=rules, titles=item_titles()
        )


def test_default_rules_are_documented_and_known() -> None:
    rules = load_rules(known=set(item_titles()))
    assert (rules.full_score, rules.default.late, rules.default.missing, rules.default.cap) == (
        100,
        0.5,
        1,
        5,
    )
    assert rules.for_obligation("annual-report").missing == 3
    assert "考评标准" in DEFAULT_RULES.read_text(encoding="utf-8")


def test_scores_and_reasons(directory: str) -> None:
    _build(directory)
    a = _assess(directory)
    scores = {s.unit: s for s in a.scores}
    assert scores["区教育局"].score == 99
    assert [d.reason for d in scores["区教育局"].deductions] == [
        "新增非密公文全量备案逾期未完成1项（2026年11月），每项扣1分"
    ]
    assert scores["区发展改革委"].score == 99.5
    assert scores["区政府办公室"].deductions == []
    text = assessment_markdown(a)
    assert "| 5 | 区教育局 | 99 |" in text
    assert "新增非密公文全量备案逾期未完成1项（2026年11月），每项扣1分：扣1分" in text


def test_cap_and_floor(directory: str) -> None:
    _build(directory)
    a = _assess(directory, "full_score: 10\nfloor: 9.8\nmissing: 4\ncap: 0.5\n")
    s = next(s for s in a.scores if s.unit == "区教育局")
    reasons = [d.reason for d in s.deductions]
    assert reasons[1] == "新增非密公文全量备案合计扣4分，超过该项上限0.5分，按上限计"
    assert s.deducted == 0.5 and s.score == 9.8  # capped at 0.5, then held at the floor
    assert reasons[-1] == "扣分后低于最低分9.8分，按最低分计"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("late: 0.5\nlatte: 1\n", "第2行的键「latte」无效"),
        ("late: -1\n", "「late」（第1行）不能为负数"),
        ("missing: 一分\n", "「missing」（第1行）应为数字"),
        (
            "obligations:\n  monthly-filing:\n    cost: 2\n",
            "第3行的键「obligations.monthly-filing.cost」无效",
        ),
        ("late: [1\n", "不是有效的 YAML"),
    ],
)
def test_bad_rules_name_the_key_and_line(text: str, message: str) -> None:
    with pytest.raises(UserError) as exc:
        parse_rules(text, source="r.yaml")
    assert message in str(exc.value)


def test_cli_with_a_rules_file(directory: str, tmp_path: Path) -> None:
    _build(directory)
    rules = tmp_path / "测试区.yaml"
    rules.write_text("late: 2\nmissing: 3\n", encoding="utf-8")
    r = run_subprocess(
        "report",
        "assessment",
        "--year",
        "2026",
        "--today",
        "2026-12-01",
        "--rules",
        str(rules),
        "--format",
        "json",
    )
    assert r.code == 0, r.err
    units = {u["unit"]: u for u in json.loads(r.out)["units"]}
    assert units["区发展改革委"]["score"] == 98 and units["区教育局"]["score"] == 97
    assert units["区教育局"]["rank"] == 5
    rules.write_text("late: 2\nobligations:\n  monthly-filling:\n    late: 1\n", encoding="utf-8")
    r = run_subprocess("report", "assessment", "--year", "2026", "--rules", str(rules))
    assert r.code == 2 and "monthly-filling" in r.err and "Traceback" not in r.err
    assert r.out == ""
    for bad, message in ((tmp_path, "是文件夹"), (tmp_path / "无.yaml", "不存在")):
        r = run_subprocess("report", "assessment", "--year", "2026", "--rules", str(bad))
        assert r.code == 2 and message in r.err and "Traceback" not in r.err


def test_the_office_is_reminded_to_publish_the_result_in_the_first_quarter(directory: str) -> None:
    from sqlmodel import select

    from models.checklist import ChecklistItem
    from models.unit import Unit
    from workflows.engine import build_checklist
    from workflows.registry import get_obligation
    from zwgk.config import get_settings

    ob = get_obligation("assessment-result")
    january = date(2027, 1, 10)
    period = ob.default_period(january)
    assert str(period) == "2026"
    with session_scope() as s:
        build_checklist(
            session=s,
            ob=ob,
            period=period,
            settings=get_settings(),
            district=directory,
            today=january,
        )
    with session_scope() as s:
        rows = s.exec(select(ChecklistItem, Unit).join(Unit)).all()
    assert [(u.name, i.due) for i, u in rows] == [("区政府办公室", date(2027, 3, 31))]
