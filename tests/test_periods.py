from __future__ import annotations

from datetime import date

import pytest

from zwgk.errors import UserError
from zwgk.periods import Cadence, Period


@pytest.mark.parametrize(
    ("text", "cadence", "start", "end"),
    [
        ("2026-11", Cadence.monthly, date(2026, 11, 1), date(2026, 11, 30)),
        ("2024-02", Cadence.monthly, date(2024, 2, 1), date(2024, 2, 29)),
        ("2026-Q4", Cadence.quarterly, date(2026, 10, 1), date(2026, 12, 31)),
        ("2026-q1", Cadence.quarterly, date(2026, 1, 1), date(2026, 3, 31)),
        ("2026", Cadence.yearly, date(2026, 1, 1), date(2026, 12, 31)),
    ],
)
def test_valid_periods(text: str, cadence: Cadence, start: date, end: date) -> None:
    p = Period.parse(text, cadence)
    assert (p.start, p.end) == (start, end)


@pytest.mark.parametrize(
    ("text", "cadence"),
    [
        ("2026-13", Cadence.monthly),
        ("2026-1", Cadence.monthly),
        ("2026/11", Cadence.monthly),
        ("2026", Cadence.monthly),
        ("2026-Q5", Cadence.quarterly),
        ("2026-11", Cadence.yearly),
        ("", Cadence.yearly),
        ("1899", Cadence.yearly),
    ],
)
def test_invalid_periods_name_the_expected_form(text: str, cadence: Cadence) -> None:
    with pytest.raises(UserError) as exc:
        Period.parse(text, cadence)
    assert f"「{text}」" in exc.value.message


def test_labels() -> None:
    assert Period.parse("2026-11", Cadence.monthly).label == "2026年11月"
    assert Period.parse("2026-Q4", Cadence.quarterly).label == "2026年第四季度"
