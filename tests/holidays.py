"""The calendar's official holiday data for the tests, given instead of read from whichever
chinesecalendar release is installed (a release that adds 2027 must not change a test).

``tests/fixtures/holidays-2020-2026.csv`` holds the State Council's arrangements for
2020–2026 as chinesecalendar 1.11 carries them, in the format ``zwgk calendar holidays
import`` reads (date,kind,name: every holiday, and every weekend made a working day).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import date
from pathlib import Path

HOLIDAYS_CSV = Path(__file__).parent / "fixtures" / "holidays-2020-2026.csv"


class GivenHolidays:
    """Official arrangements for ``years`` and no others: any other year raises
    ``NotImplementedError``, as chinesecalendar does for a year it does not cover."""

    def __init__(self, days: dict[date, bool], years: Iterable[int]) -> None:
        self.days = days
        self.years = frozenset(years)

    @classmethod
    def from_csv(cls, path: Path = HOLIDAYS_CSV, years: Iterable[int] = range(2020, 2027)):  # type: ignore[no-untyped-def]
        with path.open(encoding="utf-8", newline="") as f:
            days = {
                date.fromisoformat(r["date"]): r["kind"] == "workday" for r in csv.DictReader(f)
            }
        return cls(days, years)

    def is_workday(self, d: date) -> bool:
        if d.year not in self.years:
            raise NotImplementedError(f"no holiday data for {d.year}")
        return self.days.get(d, d.weekday() < 5)


GIVEN = GivenHolidays.from_csv()
