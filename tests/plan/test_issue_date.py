"""A plan issued late in the year (issue 11, parts 4 and 5), through the real importer, the
work-plan planner, the CLI and a real SQLite file.

Part 4: a year-round task's first checkpoint is the first quarter end at least 10 working
days after the issue date, and no item is due within those 10 working days unless the plan
says so itself (本文印发5日内). Part 5: a date before the issue date is next year's only for
next year's duty (the annual report); otherwise it stays, marked 印发时已逾期, until the
administrator confirms or moves it (``zwgk plan move-due``).

The calendar is given its data for every day these tests count over (the holiday overrides
table, which the calendar consults first), so they do not depend on which years the
installed chinesecalendar release covers.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from models import ChecklistItem, HolidayOverride, ItemEvent, ItemStatus, PlanTask
from tests.cli import run_inprocess, run_subprocess
from tests.factories import PLAN_HEADER, import_plan_rows, write_csv
from workflows.engine import build_checklist
from workflows.registry import REGISTRY
from workflows.workcal import HOLIDAY, WORKDAY
from zwgk.config import get_settings
from zwgk.db import session_scope

# The State Council's 2022 arrangements around the dates below (国办发明电〔2021〕11号),
# and New Year 2023: holidays on working days, working days on weekends.
HOLIDAYS_2022 = {date(2022, 4, 4), date(2022, 4, 5), date(2022, 6, 3), date(2022, 9, 12)}
HOLIDAYS_2022 |= {date(2022, 10, d) for d in range(3, 8)} | {date(2023, 1, 2)}
WORKDAYS_2022 = {date(2022, 4, 2), date(2022, 10, 8), date(2022, 10, 9)}


def give_calendar(start: date, end: date) -> None:
    """Every day from ``start`` to ``end`` as an override: the calendar needs nothing else."""
    rows = []
    day = start
    while day <= end:
        working = (day.weekday() < 5 and day not in HOLIDAYS_2022) or day in WORKDAYS_2022
        rows.append(HolidayOverride(day=day, kind=WORKDAY if working else HOLIDAY, name=""))
        day += timedelta(days=1)
    with session_scope() as s:
        s.add_all(rows)


ANNUAL_REPORT = ["12", "政府信息公开年报发布", "按时发布全区年报", "区政府办公室", "2月20日前"]
ROWS = [
    ["1", "做好公文公开", "依托平台做好公文的备案和公开", "各单位", "全年"],
    ["2", "规范制度栏目", "制度栏目仅放置条例规定", "各单位", "6月底前"],
    ["3", "制定本单位任务分解", "报区政府办公室", "各单位", "本文印发5日内"],
    ["4", "继续实行重大行政决策事项目录管理", "于 3 月 31 日前公开", "各单位", "3月底前"],
    ["5", "每季度上报完成情况", "各单位每季度上报", "各单位", "每季度"],
    ANNUAL_REPORT,
]


def _build(district: str, today: date) -> None:
    ob = REGISTRY["work-plan"]
    with session_scope() as s:
        build_checklist(
            session=s,
            ob=ob,
            period=ob.parse_period("2022"),
            settings=get_settings(),
            district=district,
            today=today,
        )


def _items() -> dict[str, list[ChecklistItem]]:
    """Items by step with the task's 序号 for the id: {"1-q2": [...], "2": [...]}."""
    with session_scope() as s:
        seq = {f"task-{t.id}": t.seq for t in s.exec(select(PlanTask))}
        out: dict[str, list[ChecklistItem]] = {}
        for item in s.exec(select(ChecklistItem)):
            task, _, rest = item.step.partition("-")[2].partition("-")
            key = seq[f"task-{task}"] + (f"-{rest}" if rest else "")
            out.setdefault(key, []).append(item)
    return out


def test_plan_issued_30_march_has_nothing_due_before_mid_april(
    directory: str, tmp_path: Path
) -> None:
    give_calendar(date(2022, 3, 25), date(2022, 5, 10))
    import_plan_rows(tmp_path, directory, ROWS, year=2022, issued="2022-03-30")
    _build(directory, date(2022, 3, 30))
    items = _items()
    # 全年: the first checkpoint is 30 June, not 31 March (the next day).
    assert "1-q1" not in items and {i.due for i in items["1-q2"]} == {date(2022, 6, 30)}
    assert sorted(k for k in items if k.startswith("1-")) == ["1-q2", "1-q3", "1-q4"]
    # 每季度 likewise.
    assert "5-q1" not in items and {i.due for i in items["5-q2"]} == {date(2022, 6, 30)}
    # 3月底前 would be due the next day: 10 working days after 30 March is 14 April
    # (清明 4–5 April off, Saturday 2 April worked).
    assert {i.due for i in items["4"]} == {date(2022, 4, 14)}
    # 本文印发5日内 keeps the plan's own 5 days.
    assert {i.due for i in items["3"]} == {date(2022, 4, 4)}
    # Nothing else falls before mid-April.
    early = {k for k, v in items.items() for i in v if i.due < date(2022, 4, 14)}
    assert early == {"3"}


def test_plan_issued_20_june_first_checkpoint_is_30_september(
    directory: str, tmp_path: Path
) -> None:
    give_calendar(date(2022, 6, 15), date(2022, 7, 31))
    import_plan_rows(tmp_path, directory, ROWS[:1], year=2022, issued="2022-06-20")
    _build(directory, date(2022, 6, 20))
    items = _items()
    assert sorted(items) == ["1-q3", "1-q4"]
    assert {i.due for i in items["1-q3"]} == {date(2022, 9, 30)}


def test_plan_issued_late_december_gets_one_checkpoint_ten_working_days_on(
    directory: str, tmp_path: Path
) -> None:
    give_calendar(date(2022, 12, 15), date(2023, 1, 31))
    import_plan_rows(tmp_path, directory, ROWS[:1], year=2022, issued="2022-12-20")
    _build(directory, date(2022, 12, 20))
    items = _items()
    # No quarter end of 2022 is 10 working days on (元旦 2 January 2023 off): 4 January.
    assert sorted(items) == ["1-q4"] and {i.due for i in items["1-q4"]} == {date(2023, 1, 4)}


def _dry_run(capsys: pytest.CaptureFixture[str], path: Path, district: str, issued: str):  # type: ignore[no-untyped-def]
    r = run_inprocess(
        capsys,
        "plan",
        "import",
        str(path),
        "--district",
        district,
        "--year",
        "2022",
        "--issued",
        issued,
        "--dry-run",
        "--json",
    )
    assert r.code == 0, r.err
    return {t["seq"]: t for t in json.loads(r.out)}, r.err


def test_annual_report_date_in_a_plan_issued_in_march_rolls_to_next_year(
    directory: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    give_calendar(date(2022, 3, 25), date(2022, 5, 10))
    path = write_csv(tmp_path / "plan.csv", PLAN_HEADER, ROWS)
    tasks, err = _dry_run(capsys, path, directory, "2022-03-30")
    assert (tasks["12"]["due"], tasks["12"]["overdue_at_issue"]) == ("2023-02-20", False)
    assert (
        "第 7 行（序号 12）：「2月20日前」早于印发日期（2022年3月30日），按次年2023年2月20日计"
        in err
    )
    # The same date in a task that is not the annual report stays this year's.
    other = write_csv(
        tmp_path / "other.csv", PLAN_HEADER, [["7", "制度栏目", "…", "各单位", "2月20日前"]]
    )
    tasks, err = _dry_run(capsys, other, directory, "2022-03-30")
    assert (tasks["7"]["due"], tasks["7"]["overdue_at_issue"]) == ("2022-02-20", True)


def test_june_deadline_in_a_plan_issued_in_august_stays_and_is_overdue_at_issue(
    directory: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    give_calendar(date(2022, 8, 10), date(2022, 9, 30))
    path = write_csv(tmp_path / "plan.csv", PLAN_HEADER, ROWS)
    tasks, err = _dry_run(capsys, path, directory, "2022-08-15")
    assert (tasks["2"]["due"], tasks["2"]["overdue_at_issue"]) == ("2022-06-30", True)
    assert (tasks["4"]["due"], tasks["4"]["overdue_at_issue"]) == ("2022-03-31", True)
    assert tasks["12"]["due"] == "2023-02-20" and not tasks["12"]["overdue_at_issue"]
    assert not tasks["1"]["overdue_at_issue"] and not tasks["3"]["overdue_at_issue"]
    # The warning names the file's row, the 序号, the cell, both dates and the command.
    line = next(w for w in err.splitlines() if "（序号 2）" in w)
    assert line == (
        "注意：第 3 行（序号 2）：时间节点「6月底前」为2022年6月30日，早于印发日期"
        "（2022年8月15日），印发时已逾期：请管理员确认或调整截止日期"
        "（zwgk plan move-due 2 YYYY-MM-DD --district 测试区 --year 2022）"
    )


def _status(capsys: pytest.CaptureFixture[str]) -> tuple[list[dict], str]:  # type: ignore[type-arg]
    r = run_inprocess(capsys, "status", "--obligation", "work-plan", "--json")
    assert r.code == 0, r.err
    text = run_inprocess(capsys, "status", "--obligation", "work-plan")
    return json.loads(r.out), text.out


def test_move_due_moves_pending_items_and_records_history(
    directory: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    give_calendar(date(2022, 8, 10), date(2022, 10, 31))
    import_plan_rows(tmp_path, directory, ROWS, year=2022, issued="2022-08-15")
    _build(directory, date(2022, 8, 15))
    rows, text = _status(capsys)
    late = {r["id"] for r in rows if r["overdue_at_issue"]}
    items = _items()
    assert late == {i.id for i in items["2"] + items["4"]}  # 5 units × 2 tasks
    assert "其中 10 条印发时已逾期" in text and "zwgk plan move-due" in text
    marked = [
        line
        for line in text.splitlines()
        if "待办（印发时已逾期）" in line or "已逾期（印发时已逾期）" in line
    ]
    assert len(marked) == 10 and all(
        "2022年3月31日" in line or "2022年6月30日" in line for line in marked
    )
    done = items["2"][0]
    with session_scope() as s:  # one unit already did it: its date stays
        item = s.get(ChecklistItem, done.id)
        item.status = ItemStatus.done  # type: ignore[union-attr]
        s.add(item)

    r = run_inprocess(
        capsys, "plan", "move-due", "2", "2022-09-30", "--district", directory, "--reason", "印发晚"
    )
    assert r.code == 0, r.err
    assert r.out.splitlines()[0] == (
        f"已将{directory}2022年工作要点第2项「规范制度栏目」（task-{done.step.split('-')[1]}）"
        "的截止日期由2022年6月30日调整为2022年9月30日。"
    )
    assert "待办事项 4 条随之调整，已完成或免办的 1 条不变" in r.out
    items = _items()
    assert sorted(i.due for i in items["2"]) == [date(2022, 6, 30)] + [date(2022, 9, 30)] * 4
    with session_scope() as s:
        events = list(s.exec(select(ItemEvent).where(ItemEvent.action == "move-due")))
        task = s.exec(select(PlanTask).where(PlanTask.seq == "2")).one()
    assert len(events) == 4 and events[0].by == "政务公开办"
    assert events[0].reason == "截止日期由2022年6月30日调整为2022年9月30日：印发晚"
    assert task.moved_due == date(2022, 9, 30) and task.due == date(2022, 6, 30)
    rows, _ = _status(capsys)
    assert {r["id"] for r in rows if r["overdue_at_issue"]} == {i.id for i in items["4"]} | {
        done.id
    }

    # Building again and importing the same table again keep the administrator's date.
    _build(directory, date(2022, 8, 16))
    import_plan_rows(tmp_path, directory, ROWS, year=2022, issued="2022-08-15")
    _build(directory, date(2022, 8, 17))
    assert sorted(i.due for i in _items()["2"]) == [date(2022, 6, 30)] + [date(2022, 9, 30)] * 4

    # Confirming keeps the date (and says so); the task stays overdue at issue.
    r = run_inprocess(capsys, "plan", "move-due", "4", "2022-03-31", "--year", "2022")
    assert r.code == 0, r.err
    assert r.out.startswith(
        f"已确认{directory}2022年工作要点第4项「继续实行重大行政决策事项目录管理」"
    )
    assert "截止日期为2022年3月31日。" in r.out.splitlines()[0]
    assert "仍为印发时已逾期" in r.err
    with session_scope() as s:
        reasons = [
            e.reason for e in s.exec(select(ItemEvent).where(ItemEvent.action == "move-due"))
        ]
    assert reasons.count("截止日期确认为2022年3月31日") == 5

    # A corrected table with a new 时间节点 for row 2 replaces the administrator's date.
    corrected = [r if r[0] != "2" else [*r[:4], "10月底前"] for r in ROWS]
    import_plan_rows(tmp_path, directory, corrected, year=2022, issued="2022-08-15")
    _build(directory, date(2022, 8, 18))
    assert sorted(i.due for i in _items()["2"]) == [date(2022, 6, 30)] + [date(2022, 10, 31)] * 4


def test_move_due_refuses_what_it_cannot_move(directory: str, tmp_path: Path) -> None:
    """Real subprocesses: one Chinese line, exit 2, no traceback, nothing written."""
    give_calendar(date(2022, 8, 10), date(2022, 9, 30))
    import_plan_rows(tmp_path, directory, ROWS, year=2022, issued="2022-08-15")
    cases = [
        (["99", "2022-09-30"], "错误：测试区2022年工作要点中没有序号为「99」的任务"),
        (["task-999", "2022-09-30"], "错误：测试区2022年工作要点中没有任务 task-999"),
        (["2", "2022-09-31"], "错误：截止日期「2022-09-31」无效，应为 YYYY-MM-DD"),
        (["2", "9月30日"], "错误：截止日期「9月30日」无效，应为 YYYY-MM-DD"),
        (
            ["1", "2022-09-30"],
            "错误：第1项「做好公文公开」是全年任务（按季度检查进展），没有单一的截止日期",
        ),
        (["2/3", "2022-09-30"], "错误：测试区2022年工作要点序号「2」下只有 1 行任务，没有第 3 行"),
        (["2", "2022-09-30", "--year", "2021"], "错误：尚未导入测试区2021年的政务公开工作要点"),
    ]
    for args, message in cases:
        r = run_subprocess("plan", "move-due", *args)
        assert r.code == 2, (args, r.out, r.err)  # a user error
        assert r.err.startswith(message), (args, r.err)
        assert "Traceback" not in r.err and r.out == ""
    with session_scope() as s:
        assert all(t.moved_due is None for t in s.exec(select(PlanTask)))


def test_move_due_asks_which_row_when_one_number_has_several(
    directory: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        ["24", "重大行政决策事项目录", "区政府目录", "区政府办公室", "3月底前"],
        ["24", "重大行政决策事项目录", "各单位目录", "各单位", "4月底前"],
    ]
    give_calendar(date(2022, 8, 10), date(2022, 9, 30))
    import_plan_rows(tmp_path, directory, rows, year=2022, issued="2022-08-15")
    with session_scope() as s:
        ids = [t.id for t in s.exec(select(PlanTask).order_by(PlanTask.sub))]  # type: ignore[arg-type]
    r = run_inprocess(capsys, "plan", "move-due", "24", "2022-09-30")
    assert r.code == 2
    assert (
        f"序号「24」下有 2 行任务，请指明哪一行：24/1（task-{ids[0]}）、24/2（task-{ids[1]}）"
        in r.err
    )
    r = run_inprocess(capsys, "plan", "move-due", "24/2", "2022-09-30")
    assert r.code == 0 and "由2022年4月30日调整为2022年9月30日" in r.out, r.err
    r = run_inprocess(capsys, "plan", "move-due", f"task-{ids[0]}", "2022-09-15")
    assert r.code == 0 and "由2022年3月31日调整为2022年9月15日" in r.out, r.err
