"""Progress reports on checklist items: per-unit summary as CSV, Excel, Markdown and an SVG chart.

Self-contained on purpose (standard library and openpyxl only): callers turn their checklist
items into ``ItemRow`` values and pass them in.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from xml.sax.saxutils import escape, quoteattr
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from notifications.render import cn_date, cn_period

SHANGHAI = ZoneInfo("Asia/Shanghai")

ROLE_LABELS = {"lead": "牵头", "responsible": "负责", "cooperating": "配合"}

SUMMARY_HEADER = [
    "事项",
    "单位",
    "按时完成",
    "逾期完成",
    "待审核",
    "未到期",
    "已逾期",
    "免办",
    "合计",
    "完成率",
]
OVERDUE_TITLE = "逾期事项清单"
OVERDUE_HEADER = ["事项编号", "事项", "期间", "单位", "工作内容", "角色", "截止日期"]
TOTAL_LABEL = "合计"

FONT_FAMILY = "Microsoft YaHei, SimHei, Noto Sans CJK SC, sans-serif"
CHART_COLORS = [
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
]


@dataclass(frozen=True)
class ItemRow:
    """One checklist item as the reports see it."""

    id: int
    obligation: str  # slug, e.g. "monthly-filing"
    obligation_title: str  # e.g. "新增非密公文全量备案"
    period: str  # "2026-11", "2026", "2026-Q4"
    unit: str
    step: str
    step_title: str
    role: str  # "lead" | "responsible" | "cooperating"
    due: date
    status: str  # "pending" | "done" | "overdue" | "waived"; overdue is already derived
    completed_at: datetime | None  # aware, UTC
    on_time: bool | None
    awaiting_review: bool = False  # done by the unit, not yet 通过 by the office (待审核)


@dataclass
class UnitProgress:
    """Status counts of one unit's items for one obligation.

    An item the unit completed that waits for the office's review (待审核) is counted apart
    (``awaiting``), neither done nor open: the office's view is that it is not done until
    通过, so it is in ``total`` but not in ``done`` and 完成率 leaves it out of the numerator.
    """

    unit: str
    obligation: str
    obligation_title: str
    done_on_time: int = 0
    done_late: int = 0
    open: int = 0  # pending, not yet due
    overdue: int = 0
    waived: int = 0
    awaiting: int = 0  # 待审核
    overdue_items: list[ItemRow] = field(default_factory=list)

    @property
    def done(self) -> int:
        return self.done_on_time + self.done_late

    @property
    def total(self) -> int:
        return self.done + self.awaiting + self.open + self.overdue + self.waived

    def add(self, other: UnitProgress) -> None:
        """Add ``other``'s counts to these (a total row)."""
        self.done_on_time += other.done_on_time
        self.done_late += other.done_late
        self.awaiting += other.awaiting
        self.open += other.open
        self.overdue += other.overdue
        self.waived += other.waived

    @property
    def not_done(self) -> int:
        """未完成: open, overdue, or waiting for the office's review."""
        return self.open + self.overdue + self.awaiting

    @property
    def completion_rate(self) -> float:
        """Done items (待审核 not yet among them) as a fraction (0–1) of the items not waived;
        0 when there are none."""
        required = self.total - self.waived
        return self.done / required if required else 0.0

    @property
    def on_time_rate(self) -> float:
        """Items done on time as a fraction (0–1) of the items not waived; 0 when none."""
        required = self.total - self.waived
        return self.done_on_time / required if required else 0.0

    def tally(
        self,
        status: str,
        *,
        past_due: bool,
        on_time: bool | None,
        n: int = 1,
        awaiting: bool = False,
    ) -> None:
        """Count ``n`` items of one stored status (a ``GROUP BY`` row): a pending item past its
        due date is overdue; a done one awaiting review is 待审核; another done one counts by
        its recorded verdict, and one without a verdict is not counted here
        (``tally_by_date`` judges it)."""
        if status == "done" and awaiting:
            self.awaiting += n
        elif status == "done":
            if on_time is True:
                self.done_on_time += n
            elif on_time is False:
                self.done_late += n
        elif status == "waived":
            self.waived += n
        elif past_due:
            self.overdue += n
        else:
            self.open += n

    def tally_by_date(self, due: date, completed_at: datetime | None) -> None:
        """Count one done item that has no recorded verdict (from before it was kept): on time
        when done by its due date (Asia/Shanghai); no date means no evidence of lateness."""
        if completed_at is None or shanghai_date(completed_at) <= due:
            self.done_on_time += 1
        else:
            self.done_late += 1


def shanghai_date(moment: datetime) -> date:
    """The calendar date in Asia/Shanghai of an aware datetime (naive ones are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(SHANGHAI).date()


def _is_on_time(row: ItemRow) -> bool:
    if row.on_time is not None:
        return row.on_time
    # Without a recorded verdict, judge by the completion date; no date means no evidence of lateness.
    return row.completed_at is None or shanghai_date(row.completed_at) <= row.due


def summarize(rows: Sequence[ItemRow]) -> list[UnitProgress]:
    """Counts per (obligation, unit), obligations then units in the order they first appear."""
    groups: dict[tuple[str, str], UnitProgress] = {}
    for row in rows:
        key = (row.obligation, row.unit)
        progress = groups.get(key)
        if progress is None:
            progress = groups[key] = UnitProgress(row.unit, row.obligation, row.obligation_title)
        if row.status == "done" and row.awaiting_review:
            progress.awaiting += 1
        elif row.status == "done":
            if _is_on_time(row):
                progress.done_on_time += 1
            else:
                progress.done_late += 1
        elif row.status == "pending":
            progress.open += 1
        elif row.status == "overdue":
            progress.overdue += 1
            progress.overdue_items.append(row)
        elif row.status == "waived":
            progress.waived += 1
        else:
            raise ValueError(f"unknown item status {row.status!r} (item {row.id})")
    obligation_order = {ob: i for i, ob in enumerate(dict.fromkeys(ob for ob, _ in groups))}
    result = sorted(groups.values(), key=lambda p: obligation_order[p.obligation])  # stable
    for progress in result:
        progress.overdue_items.sort(key=lambda r: (r.due, r.id))
    return result


def _obligation_totals(summary: Sequence[UnitProgress]) -> list[UnitProgress]:
    """One totals entry (unit 合计) per obligation, in summary order."""
    totals: dict[str, UnitProgress] = {}
    for p in summary:
        t = totals.setdefault(
            p.obligation, UnitProgress(TOTAL_LABEL, p.obligation, p.obligation_title)
        )
        t.add(p)
        t.overdue_items.extend(p.overdue_items)
    return list(totals.values())


def _counts(p: UnitProgress) -> list[int]:
    return [p.done_on_time, p.done_late, p.awaiting, p.open, p.overdue, p.waived, p.total]


def _percent(rate: float) -> str:
    return f"{rate:.1%}"


def _overdue(summary: Iterable[UnitProgress]) -> list[ItemRow]:
    return [row for p in summary for row in p.overdue_items]


def _overdue_fields(row: ItemRow) -> list[str | int | date]:
    role = ROLE_LABELS.get(row.role, row.role)
    period = cn_period(row.period)  # 2026年11月, as the office writes it, not the stored 2026-11
    return [row.id, row.obligation_title, period, row.unit, row.step_title, role, row.due]


# --- CSV ---------------------------------------------------------------------------------------


def to_csv(rows: Sequence[ItemRow]) -> bytes:
    """The summary, a blank line, then the overdue list; UTF-8 with BOM and CRLF, as Excel likes."""
    summary = summarize(rows)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(SUMMARY_HEADER)
    for p in summary:
        writer.writerow([p.obligation_title, p.unit, *_counts(p), _percent(p.completion_rate)])
    writer.writerow([])
    writer.writerow([OVERDUE_TITLE])
    writer.writerow(OVERDUE_HEADER)
    for row in _overdue(summary):
        writer.writerow([v.isoformat() if isinstance(v, date) else v for v in _overdue_fields(row)])
    return buf.getvalue().encode("utf-8-sig")


# --- Excel -------------------------------------------------------------------------------------


def _display_width(value: object) -> int:
    """Approximate width in Excel character units: CJK and full-width characters count double."""
    text = value.isoformat() if isinstance(value, date) else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _append(ws: Worksheet, values: Sequence[object], *, bold: bool = False) -> list[Cell]:
    ws.append(list(values))
    cells = list(ws[ws.max_row])
    for cell in cells:
        if isinstance(cell.value, str) and cell.value.startswith("="):
            cell.data_type = "s"  # text from users is never a formula
        if bold:
            cell.font = Font(bold=True)
    return cells


def _finish_sheet(ws: Worksheet, min_width: int = 6) -> None:
    """Freeze the header row and size each column to its widest value."""
    ws.freeze_panes = "A2"
    for column in ws.iter_cols():
        width = max((_display_width(c.value) for c in column if c.value is not None), default=0)
        ws.column_dimensions[column[0].column_letter].width = max(width + 2, min_width)


def to_xlsx(rows: Sequence[ItemRow]) -> bytes:
    """A workbook with sheets 汇总 (summary plus a totals row per obligation) and 逾期事项."""
    summary = summarize(rows)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "汇总"
    _append(ws, SUMMARY_HEADER, bold=True)
    totals = {t.obligation: t for t in _obligation_totals(summary)}
    for i, p in enumerate(summary):
        entries = [p]
        if i + 1 == len(summary) or summary[i + 1].obligation != p.obligation:
            entries.append(totals[p.obligation])  # last unit of this obligation: add its totals
        for g in entries:
            cells = _append(
                ws,
                [g.obligation_title, g.unit, *_counts(g), g.completion_rate],
                bold=g is not p,
            )
            cells[-1].number_format = "0.0%"
    _finish_sheet(ws)

    ws = wb.create_sheet("逾期事项")
    _append(ws, OVERDUE_HEADER, bold=True)
    for row in _overdue(summary):
        cells = _append(ws, _overdue_fields(row))
        cells[-1].number_format = "yyyy-mm-dd"
    _finish_sheet(ws)
    ws.auto_filter.ref = ws.dimensions

    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --- Markdown ----------------------------------------------------------------------------------


def _md_cell(value: object) -> str:
    return " ".join(str(value).split()).replace("|", "\\|")


def to_markdown(rows: Sequence[ItemRow], *, title: str) -> str:
    """A ``## title`` heading, the summary table, then the overdue items (or 无逾期事项。)."""
    summary = summarize(rows)
    lines = [f"## {' '.join(title.split())}", ""]
    if summary:
        lines.append("| " + " | ".join(SUMMARY_HEADER) + " |")
        lines.append("| --- | --- | " + " | ".join(["---:"] * (len(SUMMARY_HEADER) - 2)) + " |")
        for p in summary:
            cells = [p.obligation_title, p.unit, *_counts(p), _percent(p.completion_rate)]
            lines.append("| " + " | ".join(_md_cell(c) for c in cells) + " |")
    else:
        lines.append("暂无事项。")
    lines += ["", "### 逾期事项", ""]
    overdue = _overdue(summary)
    for row in overdue:
        role = ROLE_LABELS.get(row.role, row.role)
        lines.append(
            f"- {_md_cell(row.unit)}：{_md_cell(row.obligation_title)}"
            f"（{_md_cell(cn_period(row.period))}）"
            f" — {_md_cell(row.step_title)}，{role}，截止{cn_date(row.due)}（编号 {row.id}）"
        )
    if not overdue:
        lines.append("无逾期事项。")
    return "\n".join(lines) + "\n"


def behind_markdown(summary: Sequence[UnitProgress], *, title: str, limit: int = 20) -> str:
    """A ``## title`` heading, the totals per obligation, then the ``limit`` units most behind
    (most overdue items first) and how many more there are: as long for 4,000 units as for 40
    (a Prefect artifact, not the full report; that is ``to_markdown``)."""
    lines = [f"## {' '.join(title.split())}", ""]
    if not summary:
        return "\n".join([*lines, "暂无事项。"]) + "\n"
    lines.append("| " + " | ".join(SUMMARY_HEADER) + " |")
    lines.append("| --- | --- | " + " | ".join(["---:"] * (len(SUMMARY_HEADER) - 2)) + " |")
    for t in _obligation_totals(summary):
        cells = [t.obligation_title, t.unit, *_counts(t), _percent(t.completion_rate)]
        lines.append("| " + " | ".join(_md_cell(c) for c in cells) + " |")
    behind = sorted(
        (p for p in summary if p.overdue),
        key=lambda p: (-p.overdue, p.completion_rate, p.unit),
    )
    lines += ["", "### 有逾期事项的单位", ""]
    if not behind:
        return "\n".join([*lines, "无逾期事项。"]) + "\n"
    lines.append("| " + " | ".join(SUMMARY_HEADER) + " |")
    lines.append("| --- | --- | " + " | ".join(["---:"] * (len(SUMMARY_HEADER) - 2)) + " |")
    for p in behind[:limit]:
        cells = [p.obligation_title, p.unit, *_counts(p), _percent(p.completion_rate)]
        lines.append("| " + " | ".join(_md_cell(c) for c in cells) + " |")
    if len(behind) > limit:
        lines += [
            "",
            f"另有 {len(behind) - limit} 个单位有逾期事项，完整清单见 zwgk report progress。",
        ]
    return "\n".join(lines) + "\n"


# --- Completion over time ----------------------------------------------------------------------


def completion_series(
    rows: Sequence[ItemRow], *, start: date, end: date
) -> list[tuple[date, int, int]]:
    """For each day from start to end inclusive: (day, items done by the end of that day, total).

    Days are Asia/Shanghai dates; the total counts every item that is not waived. Done items
    without a completion time cannot be placed in time and are not counted, nor are those
    awaiting review (待审核).
    """
    total = sum(1 for r in rows if r.status != "waived")
    per_day: dict[date, int] = {}
    for r in rows:
        if r.status == "done" and r.completed_at and not r.awaiting_review:
            day = shanghai_date(r.completed_at)
            per_day[day] = per_day.get(day, 0) + 1
    return series_from_counts(per_day, total=total, start=start, end=end)


def series_from_counts(
    done_per_day: dict[date, int], *, total: int, start: date, end: date
) -> list[tuple[date, int, int]]:
    """``completion_series`` from counts: items done on each (Asia/Shanghai) day, and the
    total of items not waived (what a caller that aggregates in SQL has)."""
    days = sorted(done_per_day)
    series: list[tuple[date, int, int]] = []
    done = i = 0
    day = start
    while day <= end:
        while i < len(days) and days[i] <= day:
            done += done_per_day[days[i]]
            i += 1
        series.append((day, done, total))
        day += timedelta(days=1)
    return series


def completion_chart_svg(
    series_by_obligation: dict[str, list[tuple[date, int, int]]], *, title: str
) -> str:
    """A standalone SVG line chart of completion % per obligation (the keys label the legend)."""
    width, left, right, top, plot_h = 800, 70, 40, 50, 300
    plot_w = width - left - right
    bottom = top + plot_h
    legend_top = bottom + 60
    height = legend_top + 20 * len(series_by_obligation) + 10

    days = sorted({d for series in series_by_obligation.values() for d, _, _ in series})
    first = days[0] if days else date.min  # unused without days
    span = (days[-1] - days[0]).days if days else 0

    def x(day: date) -> float:
        return left + ((day - first).days / span * plot_w if span else plot_w / 2)

    def y(percent: float) -> float:
        return bottom - percent / 100 * plot_h

    def text(tx: float, ty: float, body: str, **attrs: str) -> str:
        extra = "".join(f" {k.replace('_', '-')}={quoteattr(v)}" for k, v in attrs.items())
        return f'<text x="{tx:.1f}" y="{ty:.1f}"{extra}>{escape(body)}</text>'

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="{FONT_FAMILY}" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        text(width / 2, 28, title, font_size="18", text_anchor="middle", font_weight="bold"),
    ]
    for percent in range(0, 101, 20):
        parts.append(
            f'<line x1="{left}" y1="{y(percent):.1f}" x2="{left + plot_w}" y2="{y(percent):.1f}" '
            f'stroke="#dddddd"/>'
        )
        parts.append(text(left - 8, y(percent) + 4, f"{percent}%", text_anchor="end"))
    if days:
        step = max(1, -(-span // 7))  # at most 8 evenly spaced date labels
        ticks = [first + timedelta(days=n) for n in range(0, span + 1, step)]
        one_year = days[0].year == days[-1].year

        def day_label(day: date) -> str:
            return (
                f"{day.month}月{day.day}日" if one_year else f"{day.year}年{day.month}月{day.day}日"
            )

        for day in ticks:
            parts.append(
                f'<line x1="{x(day):.1f}" y1="{top}" x2="{x(day):.1f}" y2="{bottom}" stroke="#eeeeee"/>'
            )
            parts.append(text(x(day), bottom + 18, day_label(day), text_anchor="middle"))
    else:
        parts.append(
            text(
                left + plot_w / 2,
                top + plot_h / 2,
                "暂无数据",
                text_anchor="middle",
                fill="#888888",
            )
        )
    parts.append(
        f'<polyline points="{left},{top} {left},{bottom} {left + plot_w},{bottom}" '
        f'fill="none" stroke="#333333"/>'
    )
    parts.append(text(left + plot_w / 2, bottom + 40, "日期", text_anchor="middle"))
    parts.append(
        text(
            18,
            top + plot_h / 2,
            "完成率（%）",
            text_anchor="middle",
            transform=f"rotate(-90 18 {top + plot_h / 2:.1f})",
        )
    )

    for i, (label, series) in enumerate(series_by_obligation.items()):
        color = CHART_COLORS[i % len(CHART_COLORS)]
        points = [(x(d), y(100 * done / total if total else 0.0)) for d, done, total in series]
        if len(points) == 1:
            parts.append(
                f'<circle cx="{points[0][0]:.1f}" cy="{points[0][1]:.1f}" r="3" fill="{color}"/>'
            )
        elif points:
            coords = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
            parts.append(
                f'<polyline points="{coords}" fill="none" stroke="{color}" stroke-width="2" '
                f'stroke-linejoin="round"/>'
            )
        ly = legend_top + 20 * i
        parts.append(
            f'<line x1="{left}" y1="{ly}" x2="{left + 24}" y2="{ly}" stroke="{color}" stroke-width="3"/>'
        )
        parts.append(text(left + 32, ly + 4, label))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
