"""时间节点 phrases → DueSpec: one test per phrase form, plus every deadline cell of the seeds
(as transcribed in tests/fixtures/plans)."""

from __future__ import annotations

import csv
import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.seeds import seed_text, squeezed
from zwgk.intake.plan.deadlines import (
    DeadlineError,
    DueSpec,
    is_next_year_duty,
    normalise,
    parse_deadline,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "plans"


def weekdays_only(start: date, n: int) -> date:
    """A fake add_workdays: skips weekends, knows no holidays or 调休."""
    day = start
    while n > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def parse(
    text: str,
    *,
    year: int = 2022,
    issued: date = date(2022, 3, 30),
    next_year_duty: bool | None = None,
) -> DueSpec:
    return parse_deadline(
        text,
        year=year,
        issued=issued,
        add_workdays=weekdays_only,
        next_year_duty=next_year_duty,
    )


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
    # The earliest due date (10 working days) is asked for too; the phrase keeps its 5.
    assert calls == [(date(2022, 6, 14), 10), (date(2022, 6, 14), 5)]
    assert spec.warnings == ()


@pytest.mark.parametrize(
    ("issued", "due"),
    [
        (date(2022, 1, 4), date(2022, 3, 31)),
        (date(2022, 3, 30), date(2022, 6, 30)),  # not 31 March, the next day
        (date(2022, 3, 31), date(2022, 6, 30)),
        (date(2022, 4, 1), date(2022, 6, 30)),
        (date(2022, 6, 20), date(2022, 9, 30)),  # 10 working days reach July
        (date(2022, 11, 2), date(2022, 12, 31)),
        (date(2022, 12, 20), date(2023, 3, 31)),
    ],
)
def test_every_quarter_first_due_at_least_ten_working_days_after_issue(
    issued: date, due: date
) -> None:
    for text in ("每季度", "每季度末"):
        spec = parse(text, issued=issued)
        assert (spec.due, spec.recurrence) == (due, "quarterly")


def test_every_month() -> None:
    spec = parse("每月", issued=date(2022, 2, 10))
    assert (spec.due, spec.recurrence) == (date(2022, 2, 28), "monthly")
    # Issued on 21 February: 10 working days reach March.
    assert parse("每月", issued=date(2022, 2, 21)).due == date(2022, 3, 31)


def test_every_month_on_a_day() -> None:
    assert parse("每月25日", issued=date(2022, 3, 10)).due == date(2022, 3, 25)
    assert parse("每月25日", issued=date(2022, 3, 14)).due == date(2022, 4, 25)
    assert parse("每月25日", issued=date(2022, 3, 30)).due == date(2022, 4, 25)
    assert parse("每月25日", issued=date(2022, 3, 30)).recurrence == "monthly"


# --- several dates in one cell ---------------------------------------------------------------


def test_combination_takes_earliest_on_or_after_issue() -> None:
    spec = parse("6月底前、12月底前", issued=date(2022, 3, 30))
    assert spec.due == date(2022, 6, 30)
    assert len(spec.warnings) == 1
    assert "2022年12月31日" in spec.warnings[0] and "12月底前" in spec.warnings[0]


def test_combination_skips_dates_before_issue() -> None:
    # Issued in August: 6月底前 is this June (past, not next year's), so 12月底前 is due.
    spec = parse("6月底前、12月底前", issued=date(2022, 8, 1))
    assert (spec.due, spec.overdue_at_issue) == (date(2022, 12, 31), False)
    assert any("「6月底前」2022年6月30日" in w for w in spec.warnings)


def test_combination_of_windows() -> None:
    spec = parse("3月、9月", issued=date(2022, 1, 5))
    assert (spec.window_start, spec.due) == (date(2022, 3, 1), date(2022, 3, 31))
    assert "2022年9月30日" in spec.warnings[-1]


def test_combination_with_notes() -> None:
    spec = parse("2月20日前（区政府年报）、1月底前（各单位年报）", issued=date(2022, 3, 30))
    # The notes say 年报 (next year's duty): both roll, next year's 31 January comes first.
    assert (spec.due, spec.overdue_at_issue) == (date(2023, 1, 31), False)
    summary = spec.warnings[-1]
    assert "1月底前" in summary and "各单位年报" in summary
    assert "2023年2月20日" in summary and "区政府年报" in summary


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


def test_annual_report_date_before_issue_rolls_to_next_year() -> None:
    # "2月20日前" in a plan issued in March is next February's report on this year.
    spec = parse("2月20日前", issued=date(2022, 3, 30), next_year_duty=True)
    assert (spec.due, spec.overdue_at_issue) == (date(2023, 2, 20), False)
    assert spec.warnings == ("「2月20日前」早于印发日期（2022年3月30日），按次年2023年2月20日计",)


def test_next_year_duty_is_read_from_the_task_text() -> None:
    assert is_next_year_duty("政府信息公开年报发布 2 月 20 日前")
    assert is_next_year_duty("按时发布本单位政府信息公开工作年度报告")
    assert is_next_year_duty("2月20日前（区政府年报）")
    assert not is_next_year_duty("规范政府信息公开制度栏目内容 3月底前")
    # Without a task text, the cell alone decides: a bare date is this year's.
    assert parse("2月20日前", issued=date(2022, 3, 30)).overdue_at_issue


def test_month_end_before_issue_rolls_into_leap_february() -> None:
    spec = parse("2月底", year=2023, issued=date(2023, 6, 1), next_year_duty=True)
    assert spec.due == date(2024, 2, 29)


def test_date_before_issue_stays_and_is_overdue_at_issue() -> None:
    # "6月底前" in a plan issued in August is this June's: kept, marked 印发时已逾期.
    spec = parse("6月底前", issued=date(2022, 8, 15))
    assert (spec.due, spec.overdue_at_issue) == (date(2022, 6, 30), True)
    assert spec.warnings == (
        "时间节点「6月底前」为2022年6月30日，早于印发日期（2022年8月15日），"
        "印发时已逾期：请管理员确认或调整截止日期",
    )


def test_window_before_issue_date_rolls_only_for_next_years_duty() -> None:
    spec = parse("3月", issued=date(2022, 6, 14), next_year_duty=True)
    assert (spec.window_start, spec.due) == (date(2023, 3, 1), date(2023, 3, 31))
    assert spec.warnings == ("「3月」早于印发日期（2022年6月14日），按次年2023年3月31日计",)
    spec = parse("3月", issued=date(2022, 6, 14))
    assert (spec.window_start, spec.due) == (date(2022, 3, 1), date(2022, 3, 31))
    assert spec.overdue_at_issue


def test_window_containing_issue_date_stays() -> None:
    # Issued on 14 June: the June window stays this June, due at the earliest due date.
    spec = parse("6月", issued=date(2022, 6, 14))
    assert (spec.window_start, spec.due) == (date(2022, 6, 1), date(2022, 6, 30))
    assert (spec.overdue_at_issue, spec.warnings) == (False, ())


def test_date_within_ten_working_days_of_issue_moves_to_the_earliest_due_date() -> None:
    # Issued Wed 30 March: "3月底前" would be due the next day; 10 working days (weekends
    # skipped by this test's calendar) is Wed 13 April.
    spec = parse("3月底前", issued=date(2022, 3, 30))
    assert (spec.due, spec.overdue_at_issue) == (date(2022, 4, 13), False)
    assert spec.warnings == (
        "「3月底前」（2022年3月31日）距印发日期（2022年3月30日）不足10个工作日，按2022年4月13日计",
    )
    assert parse("3月底前", issued=date(2022, 3, 31)).due == date(2022, 4, 14)
    # The tenth working day itself is fine.
    assert parse("4月13日前", issued=date(2022, 3, 30)).warnings == ()


def test_issue_relative_phrase_keeps_its_days() -> None:
    # 本文印发5日内: the plan's own words, so due within 10 working days is right.
    spec = parse("本文印发5日内", issued=date(2022, 3, 30))
    assert (spec.due, spec.warnings) == (date(2022, 4, 4), ())
    assert parse("印发后3个工作日内", issued=date(2022, 3, 30)).due == date(2022, 4, 4)


def test_explicit_year_is_not_rolled() -> None:
    spec = parse("2022年3月底前", issued=date(2022, 6, 1), next_year_duty=True)
    assert (spec.due, spec.overdue_at_issue) == (date(2022, 3, 31), True)
    assert "印发时已逾期" in spec.warnings[0]
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

# (seed, cell as extracted from the seed text, plan year, issue date, due, window start,
# recurrence, what the issue-date rules did: "" nothing, "rolled" to next year (the annual
# report), "overdue" at issue (kept), "moved" to the earliest due date (10 working days))
CHANGNING = (2022, date(2022, 3, 30))  # 000 长宁区 2022 (earliest due date: 13 April)
BAOSHAN = (2023, date(2023, 5, 22))  # 001 宝山区 2023 (earliest: 5 June)
QINGPU = (2022, date(2022, 6, 14))  # 002 青浦区 2022 (earliest: 28 June)
SEED_CELLS: list[tuple[str, str, tuple[int, date], date, date | None, str, str]] = [
    ("000", "全年", CHANGNING, date(2022, 12, 31), None, "year-round", ""),
    ("000", "6 月\n中旬", CHANGNING, date(2022, 6, 20), None, "once", ""),
    ("000", "8 月\n份底\n前", CHANGNING, date(2022, 8, 31), None, "once", ""),
    ("000", "2 月\n20 日\n前", CHANGNING, date(2023, 2, 20), None, "once", "rolled"),
    ("000", "1 月\n底", CHANGNING, date(2023, 1, 31), None, "once", "rolled"),
    ("000", "3 月\n底前", CHANGNING, date(2022, 4, 13), None, "once", "moved"),
    ("000", "4 月\n底前", CHANGNING, date(2022, 4, 30), None, "once", ""),
    ("000", "6 月\n底前", CHANGNING, date(2022, 6, 30), None, "once", ""),
    ("000", "8 月\n份", CHANGNING, date(2022, 8, 31), date(2022, 8, 1), "once", ""),
    ("000", "9 月\n底前", CHANGNING, date(2022, 9, 30), None, "once", ""),
    ("000", "9 月\n中旬\n前", CHANGNING, date(2022, 9, 20), None, "once", ""),
    ("000", "10 月\n底前", CHANGNING, date(2022, 10, 31), None, "once", ""),
    ("001", "全年", BAOSHAN, date(2023, 12, 31), None, "year-round", ""),
    ("001", "3月底前", BAOSHAN, date(2023, 3, 31), None, "once", "overdue"),
    ("001", "4月底前", BAOSHAN, date(2023, 4, 30), None, "once", "overdue"),
    ("001", "5月底", BAOSHAN, date(2023, 6, 5), None, "once", "moved"),
    ("001", "5月底前", BAOSHAN, date(2023, 6, 5), None, "once", "moved"),
    ("001", "8月", BAOSHAN, date(2023, 8, 31), date(2023, 8, 1), "once", ""),
    ("001", "10月底前", BAOSHAN, date(2023, 10, 31), None, "once", ""),
    ("001", "12月", BAOSHAN, date(2023, 12, 31), date(2023, 12, 1), "once", ""),
    # Point 38's own words (in its 具体内容; its 完成时间 cell is 5月底前).
    ("001", "本工作要点发布后 30 天内", BAOSHAN, date(2023, 6, 21), None, "once", ""),
    ("002", "全年", QINGPU, date(2022, 12, 31), None, "year-round", ""),
    ("002", "2月20日前", QINGPU, date(2023, 2, 20), None, "once", "rolled"),
    ("002", "3月底前", QINGPU, date(2022, 3, 31), None, "once", "overdue"),
    ("002", "5月底前", QINGPU, date(2022, 5, 31), None, "once", "overdue"),
    ("002", "6月底前", QINGPU, date(2022, 6, 30), None, "once", ""),
    ("002", "8月", QINGPU, date(2022, 8, 31), date(2022, 8, 1), "once", ""),
    ("002", "9 月底前", QINGPU, date(2022, 9, 30), None, "once", ""),
    ("002", "9月底前", QINGPU, date(2022, 9, 30), None, "once", ""),
    ("002", "10月底前", QINGPU, date(2022, 10, 31), None, "once", ""),
    ("002", "11月底前", QINGPU, date(2022, 11, 30), None, "once", ""),
    ("002", "本文印发30日内", QINGPU, date(2022, 7, 14), None, "once", ""),
]


@pytest.mark.parametrize(
    ("seed", "text", "plan", "due", "window_start", "recurrence", "rule"),
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
    rule: str,
) -> None:
    year, issued = plan
    spec = parse_deadline(
        text,
        year=year,
        issued=issued,
        add_workdays=weekdays_only,
        next_year_duty=rule == "rolled",  # only the annual report's rows are next year's duty
    )
    assert (spec.due, spec.window_start, spec.recurrence) == (due, window_start, recurrence)
    assert spec.overdue_at_issue == (rule == "overdue")
    # A cell the issue-date rules changed or marked says so; any other carries no warning.
    assert bool(spec.warnings) == bool(rule)


# (fixture stem, plan, table rows, rows overdue at issue: their 序号)
SEED_TABLES = [
    ("changning-2022", CHANGNING, 115, []),
    ("baoshan-2023", BAOSHAN, 50, ["22", "24"]),
    ("qingpu-2022", QINGPU, 100, ["13", "36"]),
]


@pytest.mark.parametrize(("stem", "plan", "count", "overdue"), SEED_TABLES)
def test_every_seed_deadline_cell_parses(
    stem: str, plan: tuple[int, date], count: int, overdue: list[str]
) -> None:
    """Every row of the transcribed seed tables, its task name (merged cells filled down, as
    the importer reads them) deciding next year's duty (the annual report's rows):
    due no earlier than 10 working days after the issue date, unless the plan counts from
    the issue date itself or the date had passed when the plan was issued."""
    with (FIXTURES / f"{stem}.csv").open(encoding="utf-8", newline="") as f:
        rows = [r for r in list(csv.reader(f))[1:] if r[4].strip()]  # not Baoshan's headings
    assert len(rows) == count
    year, issued = plan
    earliest = weekdays_only(issued, 10)
    late, name = [], ""
    for seq, own_name, _content, _units, cell in rows:
        name = own_name or name
        spec = parse_deadline(
            cell,
            year=year,
            issued=issued,
            add_workdays=weekdays_only,
            next_year_duty=is_next_year_duty(name + cell),
        )
        assert spec.due is not None
        if spec.overdue_at_issue:
            late.append(seq)
            assert spec.due < issued and any("印发时已逾期" in w for w in spec.warnings)
        elif "印发" not in cell and "发布" not in cell:
            assert spec.due >= earliest, (seq, cell)
    assert late == overdue


@pytest.mark.parametrize("seed", sorted({c[0] for c in SEED_CELLS}))
def test_seed_cells_are_the_seeds_words(seed: str) -> None:
    """Each cell above is text of its seed (line breaks aside), not a paraphrase."""
    text = squeezed(seed_text(seed))
    missing = [c[1] for c in SEED_CELLS if c[0] == seed and squeezed(c[1]) not in text]
    assert missing == []


@pytest.mark.parametrize(
    ("stem", "seed"), [("changning-2022", "000"), ("baoshan-2023", "001"), ("qingpu-2022", "002")]
)
def test_transcribed_deadline_cells_are_in_the_seed(stem: str, seed: str) -> None:
    """The fixture tables' 时间节点/完成时间 cells are the seed's (tests/fixtures/plans)."""
    text = squeezed(seed_text(seed))
    with (FIXTURES / f"{stem}.csv").open(encoding="utf-8", newline="") as f:
        cells = [r[4] for r in list(csv.reader(f))[1:] if r[4].strip()]
    assert cells and [c for c in cells if squeezed(c) not in text] == []
