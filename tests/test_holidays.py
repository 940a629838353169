from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select

from models import HolidayOverride
from tests.factories import write_csv
from workflows.workcal import load_calendar
from zwgk.db import session_scope
from zwgk.errors import UserError
from zwgk.intake.holidays import import_overrides


def test_overrides_import_and_apply(env: Path, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "h.csv",
        ["date", "kind", "name"],
        [
            ["2027-01-01", "holiday", "元旦"],
            ["2027-01-04", "workday", ""],
            ["2027/02/07", "上班", "春节调休"],
        ],
    )
    with session_scope() as s:
        assert import_overrides(session=s, path=path) == 3
    cal = load_calendar()
    assert cal.is_workday(date(2027, 2, 7)) and not cal.day(date(2027, 2, 7)).provisional
    # Importing again is harmless.
    with session_scope() as s:
        import_overrides(session=s, path=path)
        assert len(list(s.exec(select(HolidayOverride)))) == 3


@pytest.mark.parametrize(
    ("rows", "row", "field"),
    [
        ([["2027-02-30", "holiday", ""]], "第 2 行", "date"),
        ([["2027-01-01", "holiday", ""], ["tomorrow", "holiday", ""]], "第 3 行", "date"),
        ([["2027-01-01", "vacation", ""]], "第 2 行", "kind"),
        ([["2027-01-01", "holiday", ""], ["2027-01-01", "workday", ""]], "第 3 行", "date"),
    ],
)
def test_bad_override_file_writes_nothing(env: Path, tmp_path: Path, rows, row, field) -> None:  # type: ignore[no-untyped-def]
    path = write_csv(tmp_path / "h.csv", ["date", "kind", "name"], rows)
    with pytest.raises(UserError) as exc, session_scope() as s:
        import_overrides(session=s, path=path)
    assert (
        str(path) in exc.value.message and row in exc.value.message and field in exc.value.message
    )
    with session_scope() as s:
        assert list(s.exec(select(HolidayOverride))) == []
