"""A run's progress artifacts come from aggregates: the per-unit counts of one GROUP BY equal
the report's counts from every item, and the artifact's table stays bounded."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlmodel import select

from models.checklist import ChecklistItem, ItemStatus, Role
from models.submission import ReviewState, Submission
from models.unit import Unit
from workflows.progress import done_per_day, item_rows, unit_progress
from zwgk.db import session_scope
from zwgk.reports.progress import (
    behind_markdown,
    completion_series,
    series_from_counts,
    summarize,
)

TODAY = date(2026, 11, 20)


def _items(directory: str) -> None:
    """Items of every kind over the directory's units: done on time / late (recorded and
    judged by the date), done and awaiting review (待审核; one with two awaiting
    submissions), pending not yet due (one whose submission was returned), overdue, waived;
    one of another period."""
    handed_in: list[ChecklistItem] = []
    with session_scope() as s:
        units = list(s.exec(select(Unit).where(Unit.district == directory).order_by(Unit.id)))
        n = 0
        for k, unit in enumerate(units):
            for j in range(k + 2):
                n += 1
                due = TODAY + timedelta(days=(n % 5) - 2)  # some past, some ahead
                item = ChecklistItem(
                    obligation="monthly-filing",
                    period="2026-11",
                    unit_id=unit.id,  # type: ignore[arg-type]
                    step=f"s{j}",
                    step_title=f"第{j}步",
                    role=Role.responsible,
                    due=due,
                )
                kind = n % 6
                if kind == 1:  # done on time, verdict recorded
                    item.status, item.on_time = ItemStatus.done, True
                    item.completed_at = datetime(2026, 11, 10, 1, tzinfo=UTC)
                elif kind == 2:  # done late, verdict recorded
                    item.status, item.on_time = ItemStatus.done, False
                    item.completed_at = datetime(2026, 11, 25, 1, tzinfo=UTC)
                elif kind == 3:  # done, no verdict: late by the date (Shanghai: 19 Nov 01:00)
                    item.status = ItemStatus.done
                    item.completed_at = datetime(2026, 11, 18, 17, tzinfo=UTC)
                    item.due = date(2026, 11, 18)
                elif kind == 4:
                    item.status = ItemStatus.waived
                s.add(item)
                if kind in (1, 2, 5):
                    handed_in.append(item)
        s.add(
            ChecklistItem(
                obligation="monthly-filing",
                period="2026-10",
                unit_id=units[0].id,  # type: ignore[arg-type]
                step="s0",
                step_title="十月",
                role=Role.responsible,
                due=date(2026, 10, 31),
            )
        )
        s.flush()
        for k, item in enumerate(handed_in):
            if k % 2:
                continue
            review = (
                ReviewState.awaiting if item.status == ItemStatus.done else ReviewState.returned
            )
            for _ in range(2 if k == 0 else 1):
                s.add(Submission(item_id=item.id, unit_id=item.unit_id, review=review))  # type: ignore[arg-type]


def _counts(p):  # type: ignore[no-untyped-def]
    return (p.unit, p.done_on_time, p.done_late, p.awaiting, p.open, p.overdue, p.waived)


def test_unit_progress_from_group_by_equals_the_report_from_every_item(directory: str) -> None:
    _items(directory)
    with session_scope() as s:
        rows = item_rows(session=s, today=TODAY, obligation="monthly-filing", period="2026-11")
        ours = unit_progress(session=s, obligation="monthly-filing", period="2026-11", today=TODAY)
        per_day = done_per_day(session=s, obligation="monthly-filing", period="2026-11")
    expected = sorted(summarize(rows), key=lambda p: p.unit)
    assert [_counts(p) for p in ours] == [_counts(p) for p in expected]
    assert sum(p.done_late for p in ours) > 0 and sum(p.overdue for p in ours) > 0
    assert sum(p.awaiting for p in ours) > 1
    assert {p.obligation_title for p in ours} == {expected[0].obligation_title}

    start, end = date(2026, 11, 1), date(2026, 11, 30)
    total = sum(p.total - p.waived for p in ours)
    assert series_from_counts(per_day, total=total, start=start, end=end) == completion_series(
        rows, start=start, end=end
    )


def test_the_artifact_lists_the_units_most_behind_and_counts_the_rest(directory: str) -> None:
    _items(directory)
    with session_scope() as s:
        summary = unit_progress(
            session=s, obligation="monthly-filing", period="2026-11", today=TODAY
        )
    behind = [p for p in summary if p.overdue]
    assert len(behind) >= 3
    md = behind_markdown(summary, title="进度", limit=2)
    most = max(behind, key=lambda p: p.overdue)
    table = md.split("### 有逾期事项的单位")[1]
    assert table.count("\n| 新增") == 2  # two unit rows, no more
    assert f"| {most.unit} |" in table
    assert f"另有 {len(behind) - 2} 个单位有逾期事项" in md
    assert "| 合计 |" in md.split("###")[0]
    assert "无逾期事项" in behind_markdown(
        [p for p in summary if not p.overdue], title="进度", limit=2
    )
