"""Turn a plan's 完成时间/时间节点 (deadline) cell into a due rule (:class:`DueSpec`).

``parse_deadline(text, year=..., issued=..., add_workdays=..., next_year_duty=...)`` understands the phrases
district work plans (工作要点任务分解表) use, with or without the spaces and line breaks
that PDF extraction leaves inside cells:

==========================================  =================================================
phrase (时间节点)                            due rule
==========================================  =================================================
``全年`` · ``长期`` · ``持续推进`` · ``常态化``   year-round, due 31 Dec of ``year``
``8月`` · ``8月份``                          window: 1 Aug – 31 Aug (``window_start`` = 1 Aug)
``8月底`` · ``8月底前`` · ``8月份底前`` ·       last day of August
``8月末`` · ``8月底以前``
``6月上旬(前)`` / ``中旬(前)`` / ``下旬(前)``    10 June / 20 June / 30 June (上旬 1–10日,
                                             中旬 11–20日, 下旬 21日–月末)
``2月20日前`` · ``2月20日`` · ``2月20号前``      20 Feb
``年底前`` · ``年底`` · ``年内`` · ``年末``       31 Dec of ``year``
``上半年(内)`` / ``下半年``                     30 June / 31 Dec
``一季度`` · ``第二季度`` …                     last day of that quarter of ``year``
``次年一季度`` · ``次年第一季度``                  31 March of ``year + 1``
``本文印发30日内`` · ``工作要点发布后30日内`` ·    ``issued`` + 30 calendar days (日/天)
``发布后30天内``
``印发后10个工作日内``                          ``add_workdays(issued, 10)`` (工作日)
``每季度`` · ``每季度末``                       quarterly; due = first quarter end on/after
                                             the earliest due date (below)
``每月`` · ``每月底``                           monthly; due = first month end on/after the
                                             earliest due date
``每月25日``                                  monthly; due = the first 25th on/after the
                                             earliest due date
``6月底前、12月底前`` · ``3月、9月`` ·           several dates: the earliest one on/after the
``2月20日前（区政府年报）、1月底前（各单位年报）``  issue date is ``due``; a warning lists the rest
==========================================  =================================================

Normalisation first: full-width digits (``０``–``９``) become ASCII, all whitespace goes
(line breaks, full-width spaces ``\\u3000``, no-break spaces), （）/() and ：/: are unified,
trailing punctuation (。；;，,) and a trailing ``完成`` are stripped.  Months and days may also
be written in Chinese numerals (``十二月底前``).  A leading ``2023年``/``次年``/``明年`` sets the
year explicitly; leading ``于``/``在``/``截至``/``不晚于``/``最迟`` are ignored.

Edge cases:

* Month ends are computed, never assumed: ``2月底`` is 28 Feb, or 29 Feb in a leap year
  (``2024``); ``4月下旬`` is 30 April.
* ``2月29日`` in a year without 29 February is clamped to 28 February with a warning.
  Impossible dates (``2月30日``, ``13月``) raise :class:`DeadlineError`.
* **The earliest due date** is ``add_workdays(issued, MIN_LEAD_WORKDAYS)`` (10 working
  days after the issue date): no deadline falls between the issue date and it unless the plan
  says so in its own words (``本文印发5日内`` keeps its 5 days).  A date in that gap (``3月底前``
  in a plan issued on 30 March) becomes the earliest due date, with a warning; a recurring
  task's first occurrence is the first one on/after it (``每季度`` issued on 30 March → 30 June;
  issued on 20 June → 30 September).
* A month/day deadline (or quarter, half year, window) that falls BEFORE the issue date
  is next year's only when the task is about next year's duty (``next_year_duty``: the
  annual report's ``2月20日前``/``1月底前`` in a plan issued in March is about next February's
  report on this year): ``due`` is then that date in the following year, with a warning
  (``「2月20日前」早于印发日期（2022年6月1日），按次年2023年2月20日计``).  Otherwise the date is
  kept and the spec is ``overdue_at_issue`` (印发时已逾期), with a warning: the administrator
  confirms or moves it.  ``next_year_duty=None`` decides from the cell alone
  (:func:`is_next_year_duty`; the importer passes the task's text too).  A window ``N月``
  counts as before the issue date only when its whole month does (``6月`` in a plan issued
  on 14 June stays this June).  An explicit year (``2022年3月底前``) is never shifted.
* ``印发后30日内`` counts calendar days from ``issued`` (``issued + 30``); ``印发后30个工作日内``
  counts Chinese working days through the caller's ``add_workdays`` (调休 and holidays are its
  job).  A bare ``30日内`` (no 印发/发布 anchor) is refused: it could count from anything.
* Year-round, 年底/年内, recurring and issue-relative phrases never roll over.
* Several dates (separated by 、，,;；和及以及) each follow the rules above; bracketed notes
  (``（区政府年报）``) are kept for the warning only.  The summary warning names every date.
* Years outside 2000–2098 (``0000年3月底``, ``9999-12-31``; the working-day calendar cannot
  count in them), numbers of more than four digits, malformed Chinese numerals (``二十十月``) and
  relative spans over a year (``印发后400日内``, more than 250 工作日) raise
  :class:`DeadlineError`: they are typing errors, never dates.
* Anything unrecognised raises ``DeadlineError("无法识别的时间节点「…」")`` quoting the cell
  with its whitespace removed (cut to 60 characters); the caller adds the file and row.  Dates are plain
  :class:`datetime.date` values meaning Asia/Shanghai days.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Literal

from workflows.workcal import MIN_LEAD_WORKDAYS
from zwgk.intake.tabular import FIRST_YEAR, LAST_YEAR

__all__ = [
    "DeadlineError",
    "DueSpec",
    "Recurrence",
    "cn_date",
    "is_next_year_duty",
    "normalise",
    "parse_deadline",
]

Recurrence = Literal["once", "year-round", "quarterly", "monthly"]


@dataclass(frozen=True)
class DueSpec:
    """A parsed deadline (截止日期) with its recurrence and any warnings for the administrator."""

    due: date | None  # the deadline (Asia/Shanghai plain date); None for unparsed in lenient mode
    window_start: date | None  # for "N月" windows: first day of that month; else None
    recurrence: Recurrence
    warnings: tuple[str, ...]  # Chinese, user-facing
    text: str  # the original cell text
    overdue_at_issue: bool = False  # 印发时已逾期: ``due`` lies before the issue date


class DeadlineError(ValueError):
    """A 时间节点 phrase that cannot be understood; the message (Chinese) names the phrase."""


# --- normalisation -------------------------------------------------------------------------

_FULLWIDTH = str.maketrans(
    {
        **{chr(0xFF10 + i): str(i) for i in range(10)},  # ０-９ → 0-9
        "（": "(",
        "）": ")",
        "：": ":",
        "～": "~",
        "－": "-",
        "．": ".",
        "／": "/",
    }
)
_WS_RE = re.compile(r"\s+")
_TRAILING_PUNCT = "。；;，,、.．:"


def normalise(text: str) -> str:
    """The cell text with ASCII digits, no whitespace, unified brackets/colons, no end punctuation."""
    s = _WS_RE.sub("", (text or "").translate(_FULLWIDTH))
    while True:
        stripped = s.rstrip(_TRAILING_PUNCT)
        if stripped.endswith("完成") and len(stripped) > 2:
            stripped = stripped[:-2]
        if stripped == s:
            return s
        s = stripped


# --- numbers -------------------------------------------------------------------------------

_CN_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6}
_CN_DIGITS.update({"七": 7, "八": 8, "九": 9})
NUM = r"(?:\d+|[〇零一二两三四五六七八九十]+)"


class _BadNumber(Exception):
    """A number no deadline has: more than four digits, or a malformed Chinese numeral."""


def _num(token: str) -> int:
    """``"12"`` / ``"十二"`` / ``"二十"`` / ``"三十一"`` → int; raises _BadNumber otherwise."""
    if len(token) > 4:
        raise _BadNumber(token)
    if token.isdigit():
        return int(token)
    try:
        if "十" in token:
            tens, _, ones = token.partition("十")
            if len(tens) > 1 or len(ones) > 1:
                raise _BadNumber(token)
            return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)
        value = 0
        for ch in token:
            value = value * 10 + _CN_DIGITS[ch]
        return value
    except KeyError:
        raise _BadNumber(token) from None


def _check_year(phrase: str, year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise DeadlineError(
            f"无法识别的时间节点「{phrase}」：年份 {year} 超出范围（应在 {FIRST_YEAR}–{LAST_YEAR} 年之间）"
        )


# --- date helpers --------------------------------------------------------------------------


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _quarter_end(year: int, quarter: int) -> date:
    return _month_end(year, quarter * 3)


def _first_quarter_end_on_or_after(day: date) -> date:
    return _quarter_end(day.year, (day.month - 1) // 3 + 1)


def cn_date(day: date) -> str:
    """2022-03-30 → 2022年3月30日 (warnings are read by administrators)."""
    return f"{day.year}年{day.month}月{day.day}日"


# The task is about next year's duty: the annual report on this year (年报, published by
# 31 January / 20 February of next year), or text that says 次年/明年/下一年度.
_NEXT_YEAR_DUTY_RE = re.compile(r"年报|信息公开工作年度报告|信息公开年度报告|次年|明年|下一年度")


def is_next_year_duty(text: str) -> bool:
    """Whether a task's name and deadline cell say it is next year's duty (the importer
    passes the name, not the content: 宝山区 row 38 is about the year's plan, though its
    content says its results go into the 年度报告)."""
    return bool(_NEXT_YEAR_DUTY_RE.search(_WS_RE.sub("", text or "")))


# --- one phrase ----------------------------------------------------------------------------

_BEFORE = r"(?:前|以前|之前|止|为止)?"
_PREFIX_RE = re.compile(r"^(?:于|在|截至|截止到|截止|不晚于|最迟|最晚)")
_YEAR_RE = re.compile(
    r"^(?:(?P<y>\d{4})年(?:度)?|(?P<next>次年|明年|下一年|下年)(?:度)?|当年|本年|今年)"
)

_YEAR_ROUND = {
    "全年",
    "全年度",
    "全年持续",
    "全年推进",
    "全年持续推进",
    "长期",
    "长期坚持",
    "长期推进",
    "长期开展",
    "持续",
    "持续推进",
    "持续开展",
    "常态化",
    "常态化推进",
    "常态化开展",
    "日常",
}

_MONTH_WINDOW_RE = re.compile(rf"^(?P<m>{NUM})月份?(?:内|期间)?$")
_MONTH_END_RE = re.compile(rf"^(?P<m>{NUM})月份?(?:底|末){_BEFORE}$")
_XUN_RE = re.compile(rf"^(?P<m>{NUM})月份?(?P<x>上旬|中旬|下旬){_BEFORE}$")
_DAY_RE = re.compile(rf"^(?P<m>{NUM})月(?P<d>{NUM})(?:日|号){_BEFORE}$")
_ISO_RE = re.compile(r"^(?P<y>\d{4})[-./](?P<m>\d{1,2})[-./](?P<d>\d{1,2})" + _BEFORE + "$")
_RANGE_RE = re.compile(
    rf"^(?P<m1>{NUM})月(?P<d1>{NUM})(?:日|号)?(?:至|到|-|~|—|–)(?:(?P<m2>{NUM})月)?(?P<d2>{NUM})(?:日|号)$"
)
_YEAR_END = {"年底", "年末", "年内", "年底前", "年末前", "年底以前", "年底之前", "年终", "年度内"}
_HALF_RE = re.compile(rf"^(?P<h>上半年|下半年|年中)(?:内|底|末)?{_BEFORE}$")
_QUARTER_RE = re.compile(rf"^第?(?P<q>[一二三四1-4])季度(?:内|末|底)?{_BEFORE}$")
_EVERY_QUARTER_RE = re.compile(r"^(?:每季度|每个季度|按季度|每季)(?:末|底)?(?:前)?$")
_EVERY_MONTH_RE = re.compile(rf"^(?:每月|每个月|按月)(?:(?P<d>{NUM})(?:日|号)|底|末)?{_BEFORE}$")
_RELATIVE_RE = re.compile(
    r"^(?:本文件|本文|本通知|本方案|本计划|本工作要点|工作要点|本要点|要点|方案|文件|通知|计划)?"
    r"(?:印发|发布|下发|出台)(?:后|之日起|之日后|起|之后)?"
    rf"(?P<n>{NUM})(?:个)?(?P<unit>工作日|日|天)(?:内|以内|之内)$"
)

# "印发后N日内" longer than a year is a typing error (and N working days must stay countable).
MAX_RELATIVE_DAYS, MAX_RELATIVE_WORKDAYS = 366, 250

_QUARTER_CN = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}


@dataclass(frozen=True)
class _Part:
    """One parsed phrase before the issue-date rule: an anchor in ``year`` or fixed."""

    due: date
    window_start: date | None = None
    recurrence: Recurrence = "once"
    rolls: bool = True  # a month/day in the plan year: shift a year when before issue
    explicit_year: bool = False
    relative: bool = False  # counted from the issue date in the plan's own words
    warnings: tuple[str, ...] = ()


class _Unrecognised(Exception):
    pass


def _make_date(phrase: str, year: int, month: int, day: int | None) -> tuple[date, list[str]]:
    """``date(year, month, day)`` (``day=None``: month end), clamping 29 Feb in common years."""
    _check_year(phrase, year)
    if not 1 <= month <= 12:
        raise DeadlineError(f"无法识别的时间节点「{phrase}」：没有 {month} 月")
    if day is None:
        return _month_end(year, month), []
    longest = 29 if month == 2 else calendar.monthrange(2000, month)[1]
    if not 1 <= day <= longest:
        raise DeadlineError(f"无法识别的时间节点「{phrase}」：{month} 月没有 {day} 日")
    last = calendar.monthrange(year, month)[1]
    if day > last:
        clamped = date(year, month, last)
        return clamped, [
            f"「{phrase}」：{year} 年 {month} 月只有 {last} 天，按{cn_date(clamped)}计"
        ]
    return date(year, month, day), []


def _parse_one(
    phrase: str, *, year: int, issued: date, add_workdays: Callable[[date, int], date]
) -> _Part:
    """Parse one phrase (no separators); raises _Unrecognised or DeadlineError."""
    s = _PREFIX_RE.sub("", phrase)
    # Recurring / year-round forms first: they take no year prefix. Their first occurrence
    # is the first one on/after the earliest due date (MIN_LEAD_WORKDAYS after issue).
    if s in _YEAR_ROUND:
        return _Part(date(year, 12, 31), recurrence="year-round", rolls=False)
    if _EVERY_QUARTER_RE.match(s):
        earliest = add_workdays(issued, MIN_LEAD_WORKDAYS)
        return _Part(_first_quarter_end_on_or_after(earliest), recurrence="quarterly", rolls=False)
    m = _EVERY_MONTH_RE.match(s)
    if m:
        earliest = add_workdays(issued, MIN_LEAD_WORKDAYS)
        if m.group("d"):
            due, warnings = _make_date(phrase, earliest.year, earliest.month, _num(m.group("d")))
            if due < earliest:
                nxt = _month_end(earliest.year, earliest.month) + timedelta(days=1)
                due, warnings = _make_date(phrase, nxt.year, nxt.month, _num(m.group("d")))
            return _Part(due, recurrence="monthly", rolls=False, warnings=tuple(warnings))
        return _Part(_month_end(earliest.year, earliest.month), recurrence="monthly", rolls=False)
    m = _RELATIVE_RE.match(s)
    if m:
        n = _num(m.group("n"))
        workdays = m.group("unit") == "工作日"
        if n > (MAX_RELATIVE_WORKDAYS if workdays else MAX_RELATIVE_DAYS):
            raise DeadlineError(f"无法识别的时间节点「{phrase}」：{n} {m.group('unit')}超过一年")
        if workdays:
            return _Part(add_workdays(issued, n), rolls=False, relative=True)
        return _Part(issued + timedelta(days=n), rolls=False, relative=True)

    # Optional explicit year: 2023年… / 次年… / 当年…
    explicit = False
    m = _YEAR_RE.match(s)
    if m and len(s) > m.end():
        if m.group("y"):
            year, explicit = int(m.group("y")), True
            _check_year(phrase, year)
        elif m.group("next"):
            year, explicit = year + 1, True
        s = s[m.end() :]

    if s in _YEAR_END or (explicit and re.fullmatch(rf"(?:底|末|内|终){_BEFORE}", s)):
        return _Part(date(year, 12, 31), rolls=False, explicit_year=explicit)
    m = _HALF_RE.match(s)
    if m:
        due = date(year, 6, 30) if m.group("h") in ("上半年", "年中") else date(year, 12, 31)
        return _Part(due, explicit_year=explicit)
    m = _QUARTER_RE.match(s)
    if m:
        return _Part(_quarter_end(year, _QUARTER_CN[m.group("q")]), explicit_year=explicit)
    m = _MONTH_WINDOW_RE.match(s)
    if m:
        month = _num(m.group("m"))
        due, _ = _make_date(phrase, year, month, None)
        return _Part(due, window_start=date(year, month, 1), explicit_year=explicit)
    m = _MONTH_END_RE.match(s)
    if m:
        due, _ = _make_date(phrase, year, _num(m.group("m")), None)
        return _Part(due, explicit_year=explicit)
    m = _XUN_RE.match(s)
    if m:
        month = _num(m.group("m"))
        day = {"上旬": 10, "中旬": 20, "下旬": None}[m.group("x")]
        due, _ = _make_date(phrase, year, month, day)
        return _Part(due, explicit_year=explicit)
    m = _DAY_RE.match(s)
    if m:
        due, warnings = _make_date(phrase, year, _num(m.group("m")), _num(m.group("d")))
        return _Part(due, explicit_year=explicit, warnings=tuple(warnings))
    m = _RANGE_RE.match(s)
    if m:
        m1 = _num(m.group("m1"))
        m2 = _num(m.group("m2")) if m.group("m2") else m1
        start, w1 = _make_date(phrase, year, m1, _num(m.group("d1")))
        due, w2 = _make_date(phrase, year, m2, _num(m.group("d2")))
        if due < start:
            raise DeadlineError(f"无法识别的时间节点「{phrase}」：结束日期早于开始日期")
        return _Part(due, window_start=start, explicit_year=explicit, warnings=tuple(w1 + w2))
    m = _ISO_RE.match(s)
    if m:
        due, warnings = _make_date(phrase, int(m.group("y")), int(m.group("m")), int(m.group("d")))
        return _Part(due, explicit_year=True, warnings=tuple(warnings))
    raise _Unrecognised(phrase)


def _apply_issue_rule(
    phrase: str,
    part: _Part,
    *,
    year: int,
    issued: date,
    earliest: date,
    add_workdays: Callable[[date, int], date],
    next_year_duty: bool,
) -> _Part:
    """The issue-date rules for one phrase (see the module docstring).

    Before the issue date: next year's date for next year's duty (parsed again with
    ``year + 1`` rather than shifted, so month ends stay month ends: ``2月底`` of a plan
    issued in 2023 is 2024-02-29), else kept (the caller marks it 印发时已逾期). From the
    issue date to the earliest due date: the earliest due date. Issue-relative phrases
    (``本文印发5日内``) are the plan's own words and stay as they are.
    """
    if part.relative:
        return part
    if part.due < issued:
        if not (part.rolls and not part.explicit_year and next_year_duty):
            return part
        later = _parse_one(phrase, year=year + 1, issued=issued, add_workdays=add_workdays)
        warning = f"「{phrase}」早于印发日期（{cn_date(issued)}），按次年{cn_date(later.due)}计"
        return replace(later, warnings=(*later.warnings, warning))
    if part.due < earliest:
        warning = (
            f"「{phrase}」（{cn_date(part.due)}）距印发日期（{cn_date(issued)}）不足"
            f"{MIN_LEAD_WORKDAYS}个工作日，按{cn_date(earliest)}计"
        )
        return replace(part, due=earliest, warnings=(*part.warnings, warning))
    return part


# --- several phrases in one cell ---------------------------------------------------------

_SPLIT_RE = re.compile(r"[、,;]|和|及")
_NOTE_RE = re.compile(r"\(([^()]*)\)")


def _split_parts(s: str) -> list[tuple[str, str]]:
    """``(phrase, note)`` pairs; separators inside brackets do not split."""
    s = s.replace("以及", "、")
    parts: list[str] = []
    depth, start = 0, 0
    for i, ch in enumerate(s):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif depth == 0 and _SPLIT_RE.fullmatch(ch):
            parts.append(s[start:i])
            start = i + 1
    parts.append(s[start:])
    out: list[tuple[str, str]] = []
    for p in parts:
        notes = "；".join(n for n in _NOTE_RE.findall(p) if n)
        phrase = _NOTE_RE.sub("", p).strip(_TRAILING_PUNCT)
        if phrase:
            out.append((phrase, notes))
    return out


def parse_deadline(
    text: str,
    *,
    year: int,
    issued: date,
    add_workdays: Callable[[date, int], date],
    next_year_duty: bool | None = None,
) -> DueSpec:
    """Parse a 完成时间/时间节点 cell into a :class:`DueSpec` (see the module docstring).

    ``year`` is the plan year (工作要点年度); ``issued`` the plan's issue date (印发日期), from
    which relative phrases count, the earliest due date is reckoned and before which a
    month/day is overdue at issue (or next year's, for ``next_year_duty``);
    ``add_workdays(start, n)`` returns the date ``n`` Chinese working days after ``start``.
    ``next_year_duty=None``: :func:`is_next_year_duty` of the cell text.
    Raises :class:`DeadlineError` (Chinese message naming the phrase) when unrecognised.
    """
    if next_year_duty is None:
        next_year_duty = is_next_year_duty(text)
    earliest = add_workdays(issued, MIN_LEAD_WORKDAYS)
    shown = _WS_RE.sub("", text or "")
    if len(shown) > 60:
        shown = shown[:60] + f"…（共 {len(shown)} 字）"
    s = normalise(text)
    if not s:
        raise DeadlineError("时间节点为空")
    pieces = _split_parts(s)
    if not pieces:
        raise DeadlineError(f"无法识别的时间节点「{shown}」")
    parsed: list[tuple[str, str, _Part]] = []
    for phrase, note in pieces:
        try:
            part = _parse_one(phrase, year=year, issued=issued, add_workdays=add_workdays)
            part = _apply_issue_rule(
                phrase,
                part,
                year=year,
                issued=issued,
                earliest=earliest,
                add_workdays=add_workdays,
                next_year_duty=next_year_duty,
            )
        except _Unrecognised:
            if len(pieces) == 1:
                raise DeadlineError(f"无法识别的时间节点「{shown}」") from None
            raise DeadlineError(
                f"无法识别的时间节点「{shown}」（其中「{phrase[:60]}」无法识别）"
            ) from None
        except _BadNumber as exc:
            raise DeadlineError(
                f"无法识别的时间节点「{shown}」：数字「{str(exc)[:20]}」不是月、日或天数"
            ) from None
        parsed.append((phrase, note, part))

    warnings: list[str] = [w for _, _, p in parsed for w in p.warnings]
    if len(parsed) == 1:
        chosen = parsed[0][2]
    else:
        on_time = [x for x in parsed if x[2].due >= issued]
        # The earliest date on/after the issue date; otherwise the first listed.
        pick = min(on_time, key=lambda x: x[2].due) if on_time else parsed[0]
        chosen = pick[2]

        def describe(phrase: str, note: str, part: _Part) -> str:
            return f"「{phrase}」" + (f"（{note}）" if note else "") + cn_date(part.due)

        others = "、".join(describe(*x) for x in parsed if x is not pick)
        warnings.append(
            f"时间节点「{shown}」包含多个日期，按最早的{describe(*pick)}计；"
            f"其他日期：{others}，请管理员核对"
        )
    overdue = chosen.due < issued
    if overdue:
        warnings.append(
            f"时间节点「{shown}」为{cn_date(chosen.due)}，早于印发日期（{cn_date(issued)}），"
            "印发时已逾期：请管理员确认或调整截止日期"
        )
    return DueSpec(
        due=chosen.due,
        window_start=chosen.window_start,
        recurrence=chosen.recurrence,
        warnings=tuple(warnings),
        text=text,
        overdue_at_issue=overdue,
    )


# --- a deadline inside the task text (issue 11, part 2) ------------------------------------
# When a table has no 完成时间 column, or a row's cell is empty, the importer looks in the
# task's own words: "2021年底前完成", "7月底前上线", "本方案印发后30日内".  Only phrases that
# say *by when* are taken — a month/day needs 前 (or 底/末), relative spans need the plan
# itself as anchor ("文件出台后10个工作日内" counts from some other document) — and bare
# months ("8月政府开放月") or "年内" are ignored; a year-end after 上/去 ("截至上年底") is past.

_TEXT_MONTH = r"(?:\d{1,2}|十[一二]?|[一二三四五六七八九])"
_TEXT_DEADLINE_RE = re.compile(
    r"(?:\d{4}年)?" + _TEXT_MONTH + r"月份?(?:底|末)(?:前|以前|之前)?"
    r"|(?:\d{4}年)?" + _TEXT_MONTH + r"月份?(?:上旬|中旬|下旬|\d{1,2}[日号])?(?:前|以前|之前)"
    r"|(?<![上去前])(?:\d{4})?年(?:底|末)(?:前|以前|之前)?"
    r"|(?:本文件|本文|本通知|本方案|本计划|本工作要点|本要点|工作要点)"
    r"(?:印发|发布|下发|出台)(?:后|之日起|之日后|起|之后)?\d{1,3}个?(?:工作日|日|天)(?:内|以内|之内)"
)


def find_deadline_phrases(text: str) -> list[str]:
    """The deadline phrases written inside a task's text, in order, without repeats.

    ``"…2021年底前完成，7月底前上线"`` → ``["2021年底前", "7月底前"]``.  The caller parses
    them with :func:`parse_deadline` (and drops any that do not parse)."""
    s = normalise(text)
    found: list[str] = []
    for m in _TEXT_DEADLINE_RE.finditer(s):
        if m.group() not in found:
            found.append(m.group())
    return found
