"""时间节点 phrases → DueSpec: one test per phrase form, plus every deadline cell of the seeds."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from zwgk.plan.deadlines import DeadlineError, DueSpec, normalise, parse_deadline

SEEDS = Path("/work/shared/seeds")


def weekdays_only(start: date, n: int) -> date:
    """A fake add_workdays: skips weekends, knows no holidays or 调休."""
    day = start
    while n > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def parse(text: str, *, year: int = 2022, issued: date = date(2022, 3, 30)) -> DueSpec:
    return parse_deadline(text, year=year, issued=issued, add_workdays=weekdays_only)


# --- single phrases ------------------------------------------------------------------------


def test_year_round_phrase() -> None:
    spec = parse("全年")
    assert spec == DueSpec(date(2022, 12, 31), None, "year-round", (), "全年")


@pytest.mark.parametrize("text", ["长期", "持续推进", "常态化", "长期坚持"])
def test_long_term_phrases_are_year_round(text: str) -> None:
    spec = parse(text)
    assert (spec.due, spec.recurrence, spec.window_start) == (
        date(2022, 12, 31),
        "year-round",
        None,
    )


@pytest.mark.parametrize("text", ["8月", "8月份", "8 月"])
def test_month_window_phrase(text: str) -> None:
    spec = parse(text)
    assert spec.window_start == date(2022, 8, 1)
    assert spec.due == date(2022, 8, 31)
    assert spec.recurrence == "once"
    assert spec.warnings == ()


@pytest.mark.parametrize(
    "text", ["10月底", "10月底前", "10月份底前", "10月末", "10月底以前", "10月底之前"]
)
def test_month_end_phrase(text: str) -> None:
    spec = parse(text)
    assert (spec.due, spec.window_start, spec.recurrence) == (date(2022, 10, 31), None, "once")


def test_month_end_of_thirty_day_month() -> None:
    assert parse("4月底前").due == date(2022, 4, 30)
    assert parse("9月末").due == date(2022, 9, 30)


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("6月上旬", 10),
        ("6月上旬前", 10),
        ("6月中旬", 20),
        ("6月中旬前", 20),
        ("6月下旬", 30),
        ("6月下旬前", 30),
    ],
)
def test_ten_day_periods_xun(text: str, day: int) -> None:
    assert parse(text).due == date(2022, 6, day)


def test_late_month_xun_is_month_end() -> None:
    assert parse("7月下旬").due == date(2022, 7, 31)


@pytest.mark.parametrize("text", ["9 月中旬前", "9月 中旬前", "9 月\n中旬\n前", "9\u3000月中旬前"])
def test_mid_month_with_space(text: str) -> None:
    assert parse(text).due == date(2022, 9, 20)


@pytest.mark.parametrize(
    "text", ["5月20日前", "5月20日", "5月20号前", "5 月 20 日前", "5月20日之前"]
)
def test_month_day_phrase(text: str) -> None:
    assert parse(text).due == date(2022, 5, 20)


@pytest.mark.parametrize("text", ["年底前", "年底", "年内", "年末"])
def test_year_end_phrases(text: str) -> None:
    spec = parse(text)
    assert (spec.due, spec.recurrence, spec.warnings) == (date(2022, 12, 31), "once", ())


@pytest.mark.parametrize("text", ["次年一季度", "次年第一季度"])
def test_next_year_first_quarter(text: str) -> None:
    spec = parse(text, issued=date(2022, 6, 1))
    assert spec.due == date(2023, 3, 31)
    assert spec.warnings == ()


@pytest.mark.parametrize(
    ("text", "due"),
    [
        ("二季度", date(2022, 6, 30)),
        ("第二季度", date(2022, 6, 30)),
        ("三季度", date(2022, 9, 30)),
        ("第四季度", date(2022, 12, 31)),
        ("一季度", date(2022, 3, 31)),
    ],
)
def test_quarter_phrases(text: str, due: date) -> None:
    assert parse(text, issued=date(2022, 1, 10)).due == due


@pytest.mark.parametrize(
    ("text", "due"),
    [
        ("上半年", date(2022, 6, 30)),
        ("上半年内", date(2022, 6, 30)),
        ("下半年", date(2022, 12, 31)),
    ],
)
def test_half_year_phrases(text: str, due: date) -> None:
    assert parse(text).due == due


@pytest.mark.parametrize(
    "text",
    [
        "本文印发30日内",
        "工作要点发布后30日内",
        "发布后30天内",
        "工作要点\n发布后30\n日内",
        "印发之日起30日内",
    ],
)
def test_issued_relative_calendar_days(text: str) -> None:
    spec = parse(text, issued=date(2022, 6, 14))
    assert spec.due == date(2022, 7, 14)  # issued + 30 calendar days
    assert (spec.recurrence, spec.window_start) == ("once", None)


def test_issued_relative_workdays() -> None:
    # Tue 14 June 2022 + 10 working days (weekends skipped) = Tue 28 June.
    spec = parse("印发后10个工作日内", issued=date(2022, 6, 14))
    assert spec.due == date(2022, 6, 28)
    # Issued on a Friday: 1 working day later is Monday.
    assert parse("印发后1个工作日内", issued=date(2022, 6, 17)).due == date(2022, 6, 20)


def test_issued_relative_uses_callers_workday_calendar() -> None:
    calls: list[tuple[date, int]] = []

    def fake(start: date, n: int) -> date:
        calls.append((start, n))
        return date(2030, 1, 1)

    spec = parse_deadline(
        "本文印发5个工作日内", year=2022, issued=date(2022, 6, 14), add_workdays=fake
    )
    assert spec.due == date(2030, 1, 1)
    assert calls == [(date(2022, 6, 14), 5)]


@pytest.mark.parametrize(
    ("issued", "due"),
    [
        (date(2022, 3, 30), date(2022, 3, 31)),
        (date(2022, 3, 31), date(2022, 3, 31)),
        (date(2022, 4, 1), date(2022, 6, 30)),
        (date(2022, 11, 2), date(2022, 12, 31)),
    ],
)
def test_every_quarter(issued: date, due: date) -> None:
    for text in ("每季度", "每季度末"):
        spec = parse(text, issued=issued)
        assert (spec.due, spec.recurrence) == (due, "quarterly")


def test_every_month() -> None:
    spec = parse("每月", issued=date(2022, 2, 10))
    assert (spec.due, spec.recurrence) == (date(2022, 2, 28), "monthly")


def test_every_month_on_a_day() -> None:
    assert parse("每月25日", issued=date(2022, 3, 10)).due == date(2022, 3, 25)
    assert parse("每月25日", issued=date(2022, 3, 30)).due == date(2022, 4, 25)
    assert parse("每月25日", issued=date(2022, 3, 30)).recurrence == "monthly"


# --- several dates in one cell ---------------------------------------------------------------


def test_combination_takes_earliest_on_or_after_issue() -> None:
    spec = parse("6月底前、12月底前", issued=date(2022, 3, 30))
    assert spec.due == date(2022, 6, 30)
    assert len(spec.warnings) == 1
    assert "2022-12-31" in spec.warnings[0] and "12月底前" in spec.warnings[0]


def test_combination_skips_dates_before_issue() -> None:
    # Issued in August: 6月底前 rolls to next June, so 12月底前 is the earliest.
    spec = parse("6月底前、12月底前", issued=date(2022, 8, 1))
    assert spec.due == date(2022, 12, 31)
    assert any("2023-06-30" in w for w in spec.warnings)


def test_combination_of_windows() -> None:
    spec = parse("3月、9月", issued=date(2022, 1, 5))
    assert (spec.window_start, spec.due) == (date(2022, 3, 1), date(2022, 3, 31))
    assert "2022-09-30" in spec.warnings[-1]


def test_combination_with_notes() -> None:
    spec = parse("2月20日前（区政府年报）、1月底前（各单位年报）", issued=date(2022, 3, 30))
    # Both lie before the issue date: next year's 31 January comes first.
    assert spec.due == date(2023, 1, 31)
    summary = spec.warnings[-1]
    assert "1月底前" in summary and "各单位年报" in summary
    assert "2023-02-20" in summary and "区政府年报" in summary


def test_combination_with_unrecognised_part_raises() -> None:
    with pytest.raises(DeadlineError, match="「看情况」"):
        parse("6月底前、看情况")


# --- normalisation ---------------------------------------------------------------------------


def test_fullwidth_digits() -> None:
    assert parse("１０月底前").due == date(2022, 10, 31)
    assert parse("２月２０日前", issued=date(2022, 1, 4)).due == date(2022, 2, 20)
    assert parse("本文印发３０日内", issued=date(2022, 6, 14)).due == date(2022, 7, 14)


def test_whitespace_and_line_breaks_removed() -> None:
    assert parse("8 月\n份底\n前").due == date(2022, 8, 31)
    assert parse(" 6\u3000月\r\n底前 ").due == date(2022, 6, 30)


def test_trailing_punctuation_and_brackets() -> None:
    assert parse("年底前。").due == date(2022, 12, 31)
    assert parse("6月底前；").due == date(2022, 6, 30)
    assert parse("6月底前完成").due == date(2022, 6, 30)
    assert normalise("2月20日前（区政府年报）：") == "2月20日前(区政府年报)"


def test_chinese_numeral_months() -> None:
    assert parse("十二月底前").due == date(2022, 12, 31)
    assert parse("六月二十日前").due == date(2022, 6, 20)


def test_text_kept_verbatim() -> None:
    assert parse("6 月\n中旬").text == "6 月\n中旬"


# --- month ends, leap years, the issue date ----------------------------------------------------


def test_february_month_end_in_leap_and_common_years() -> None:
    assert parse("2月底", year=2024, issued=date(2024, 1, 2)).due == date(2024, 2, 29)
    assert parse("2月底", year=2023, issued=date(2023, 1, 2)).due == date(2023, 2, 28)
    assert parse("2月下旬", year=2024, issued=date(2024, 1, 2)).due == date(2024, 2, 29)


def test_feb_29_clamped_in_common_year() -> None:
    spec = parse("2月29日", year=2023, issued=date(2023, 1, 2))
    assert spec.due == date(2023, 2, 28)
    assert spec.warnings and "28" in spec.warnings[0]


def test_before_issue_date_rolls_to_next_year() -> None:
    spec = parse("2月20日前", issued=date(2022, 6, 1))
    assert spec.due == date(2023, 2, 20)
    assert spec.warnings == ("「2月20日前」早于印发日期 2022-06-01，按次年 2023-02-20 计",)


def test_month_end_before_issue_rolls_into_leap_february() -> None:
    spec = parse("2月底", year=2023, issued=date(2023, 6, 1))
    assert spec.due == date(2024, 2, 29)


def test_window_before_issue_date_rolls() -> None:
    spec = parse("3月", issued=date(2022, 6, 14))
    assert (spec.window_start, spec.due) == (date(2023, 3, 1), date(2023, 3, 31))
    assert spec.warnings == ("「3月」早于印发日期 2022-06-14，按次年 2023-03-31 计",)


def test_window_containing_issue_date_stays() -> None:
    spec = parse("6月", issued=date(2022, 6, 14))
    assert (spec.window_start, spec.due, spec.warnings) == (date(2022, 6, 1), date(2022, 6, 30), ())


def test_deadline_on_issue_date_does_not_roll() -> None:
    spec = parse("3月底前", issued=date(2022, 3, 31))
    assert (spec.due, spec.warnings) == (date(2022, 3, 31), ())


def test_explicit_year_is_not_rolled() -> None:
    spec = parse("2022年3月底前", issued=date(2022, 6, 1))
    assert spec.due == date(2022, 3, 31)
    assert spec.warnings and "早于印发日期" in spec.warnings[0]
    assert parse("2023年底前", issued=date(2022, 6, 1)).due == date(2023, 12, 31)


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["尽快", "下个月", "视情况而定", "30日内"])
def test_unrecognised_raises(text: str) -> None:
    with pytest.raises(DeadlineError) as exc:
        parse(text)
    assert str(exc.value) == f"无法识别的时间节点「{text}」"
    assert isinstance(exc.value, ValueError)


@pytest.mark.parametrize("text", ["2月30日", "13月底前", "4月31日前"])
def test_impossible_date_raises(text: str) -> None:
    with pytest.raises(DeadlineError, match=re.escape(f"「{text}」")):
        parse(text)


def test_empty_cell_raises() -> None:
    with pytest.raises(DeadlineError, match="为空"):
        parse(" \n")


# --- every deadline cell of the seed tables ----------------------------------------------------

# (seed, cell as extracted from the seed text, plan year, issue date, due, window start, recurrence)
CHANGNING = (2022, date(2022, 3, 30))  # 000 长宁区 2022
BAOSHAN = (2023, date(2023, 5, 22))  # 001 宝山区 2023
QINGPU = (2022, date(2022, 6, 14))  # 002 青浦区 2022
SEED_CELLS: list[tuple[str, str, tuple[int, date], date, date | None, str]] = [
    ("000", "全年", CHANGNING, date(2022, 12, 31), None, "year-round"),
    ("000", "6 月\n中旬", CHANGNING, date(2022, 6, 20), None, "once"),
    ("000", "8 月\n份底\n前", CHANGNING, date(2022, 8, 31), None, "once"),
    ("000", "2 月\n20 日\n前", CHANGNING, date(2023, 2, 20), None, "once"),
    ("000", "1 月\n底", CHANGNING, date(2023, 1, 31), None, "once"),
    ("000", "3 月\n底前", CHANGNING, date(2022, 3, 31), None, "once"),
    ("000", "4 月\n底前", CHANGNING, date(2022, 4, 30), None, "once"),
    ("000", "6 月\n底前", CHANGNING, date(2022, 6, 30), None, "once"),
    ("000", "8 月\n份", CHANGNING, date(2022, 8, 31), date(2022, 8, 1), "once"),
    ("000", "9 月\n底前", CHANGNING, date(2022, 9, 30), None, "once"),
    ("000", "9 月\n中旬\n前", CHANGNING, date(2022, 9, 20), None, "once"),
    ("000", "10 月\n底前", CHANGNING, date(2022, 10, 31), None, "once"),
    ("001", "全年", BAOSHAN, date(2023, 12, 31), None, "year-round"),
    ("001", "3月底前", BAOSHAN, date(2024, 3, 31), None, "once"),
    ("001", "4月底前", BAOSHAN, date(2024, 4, 30), None, "once"),
    ("001", "5月底", BAOSHAN, date(2023, 5, 31), None, "once"),
    ("001", "5月底前", BAOSHAN, date(2023, 5, 31), None, "once"),
    ("001", "8月", BAOSHAN, date(2023, 8, 31), date(2023, 8, 1), "once"),
    ("001", "10月底前", BAOSHAN, date(2023, 10, 31), None, "once"),
    ("001", "12月", BAOSHAN, date(2023, 12, 31), date(2023, 12, 1), "once"),
    ("001", "工作要点\n发布后30\n日内", BAOSHAN, date(2023, 6, 21), None, "once"),
    ("002", "全年", QINGPU, date(2022, 12, 31), None, "year-round"),
    ("002", "2月20日前", QINGPU, date(2023, 2, 20), None, "once"),
    ("002", "3月底前", QINGPU, date(2023, 3, 31), None, "once"),
    ("002", "5月底前", QINGPU, date(2023, 5, 31), None, "once"),
    ("002", "6月底前", QINGPU, date(2022, 6, 30), None, "once"),
    ("002", "8月", QINGPU, date(2022, 8, 31), date(2022, 8, 1), "once"),
    ("002", "9 月底前", QINGPU, date(2022, 9, 30), None, "once"),
    ("002", "9月底前", QINGPU, date(2022, 9, 30), None, "once"),
    ("002", "10月底前", QINGPU, date(2022, 10, 31), None, "once"),
    ("002", "11月底前", QINGPU, date(2022, 11, 30), None, "once"),
    ("002", "本文印发30日内", QINGPU, date(2022, 7, 14), None, "once"),
]


@pytest.mark.parametrize(
    ("seed", "text", "plan", "due", "window_start", "recurrence"),
    SEED_CELLS,
    ids=[f"{c[0]}-{c[1]}" for c in SEED_CELLS],
)
def test_seed_deadline_cells_parse(
    seed: str,
    text: str,
    plan: tuple[int, date],
    due: date,
    window_start: date | None,
    recurrence: str,
) -> None:
    year, issued = plan
    spec = parse_deadline(text, year=year, issued=issued, add_workdays=weekdays_only)
    assert (spec.due, spec.window_start, spec.recurrence) == (due, window_start, recurrence)
    # A cell before the issue date says so; one on/after it carries no warning.
    rolled = due.year > year and "印发" not in text
    assert bool(spec.warnings) == rolled


def _seed_cells(name: str) -> list[str]:
    """Deadline cells extracted from a seed's task table (best effort, see the seeds' layout)."""
    path = next(SEEDS.glob(f"{name}_*.txt"), None)
    if path is None:
        pytest.skip(f"seed {name} not available")
    text = path.read_text(encoding="utf-8")
    if name == "002":  # tab-separated: the 5th column (row 44 is missing from the seed text)
        return [row.split("\t")[4] for row in text.splitlines()[1:] if row.count("\t") == 4][1:]
    table = text[text.index("任务分解表", text.index("附件")) :]
    flat = re.sub(r"\s+", "", table)
    # Cells that the PDF broke over lines, matched on the text with whitespace removed;
    # 3月31日前 belongs to a task's content (重大行政决策目录), not to a 时间节点 cell.
    cells = re.findall(r"全年|\d+月份?(?:底前|底|中旬前|中旬|\d+日前)?", flat)
    return [c for c in cells if c != "3月31日前"]


@pytest.mark.parametrize(
    ("seed", "plan", "count"), [("000", CHANGNING, 115), ("001", BAOSHAN, 49), ("002", QINGPU, 100)]
)
def test_every_seed_deadline_cell_parses(seed: str, plan: tuple[int, date], count: int) -> None:
    cells = _seed_cells(seed)
    year, issued = plan
    assert len(cells) >= count
    for cell in cells:
        spec = parse_deadline(cell, year=year, issued=issued, add_workdays=weekdays_only)
        assert spec.due is not None and spec.due >= issued
