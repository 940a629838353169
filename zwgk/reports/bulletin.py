"""通报: how a district's units did on the items due in a month, a quarter or a year.

The overall 完成率 and 按时完成率, every unit ranked best first (按时完成, 逾期完成, 未完成,
免办, 完成率, 得分 by the district's 考评标准), and the items past due and not done, by unit.
Counts come from :func:`zwgk.reports.assessment.counts_due` (one ``GROUP BY``); only the
overdue items themselves are read. Written as Markdown, XLSX or, in the layout of an
official document, DOCX (:mod:`zwgk.reports.bulletin_docx`).
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from models.checklist import ChecklistItem, ItemStatus
from models.unit import Unit
from notifications.render import cn_day, cn_period
from zwgk.config import Office
from zwgk.errors import UserError
from zwgk.periods import Cadence, Period
from zwgk.reports.assessment import (
    Rules,
    UnitScore,
    counts_due,
    places,
    points,
    rank,
    score_unit,
)
from zwgk.reports.progress import UnitProgress, _display_width

RANKING_HEADER = ["排名", "单位", "按时完成", "逾期完成", "未完成", "免办", "完成率", "得分"]
OVERDUE_HEADER = ["序号", "单位", "重点工作", "期间", "工作内容", "截止日期", "逾期天数"]
PERIOD_RE = re.compile(r"^[0-9]{4}(-[0-9]{2}|-[Qq][1-4])?$")  # ASCII digits: \d takes ٢٠٢٦

# 主送 by kind of unit, in the order a district office writes them.
ADDRESSEES = (
    ("department", "区政府各委、办、局"),
    ("street", "各街道办事处"),
    ("town", "各镇人民政府"),
    ("park", "各园区管委会"),
)


def parse_period(text: str) -> Period:
    """``2026-11`` (a month), ``2026-Q4`` (a quarter) or ``2026`` (a year)."""
    text = (text or "").strip()
    if not PERIOD_RE.match(text):
        raise UserError(
            f"期间「{text}」格式不对：应写作 2026-11（月）、2026-Q4（季度）或 2026（年度）"
        )
    if "-" not in text:
        return Period.parse(text, Cadence.yearly)
    if text[5] in "Qq":
        return Period.parse(text, Cadence.quarterly)
    return Period.parse(text, Cadence.monthly)


@dataclass(frozen=True)
class OverdueItem:
    """One item past due and not done (逾期未完成)."""

    id: int
    unit: str
    obligation_title: str
    period: str
    step_title: str
    due: date
    days_late: int


@dataclass
class Bulletin:
    """Everything the 通报 states; the renderers only lay it out."""

    period: Period
    district: str
    as_of: date
    office: Office
    rules: Rules
    ranking: list[UnitScore]  # best first
    overdue: list[OverdueItem]  # by unit in ranking order, then due date
    kinds: set[str]

    @property
    def label(self) -> str:
        """2026年11月 / 2026年第四季度 / 2026年度."""
        return self.period.label

    @property
    def title(self) -> str:
        return f"关于{self.label}全区政务公开重点工作完成情况的通报"

    @property
    def addressees(self) -> str:
        parts = [text for kind, text in ADDRESSEES if kind in self.kinds]
        return "，".join(parts) if parts else "各单位"

    @property
    def total(self) -> UnitProgress:
        t = UnitProgress("合计", "", "")
        for s in self.ranking:
            t.add(s.counts)
        return t

    def overdue_by_unit(self) -> list[tuple[str, list[OverdueItem]]]:
        groups: dict[str, list[OverdueItem]] = {}
        for item in self.overdue:
            groups.setdefault(item.unit, []).append(item)
        return list(groups.items())

    def summary_sentences(self) -> list[str]:
        """The body's 总体情况 and 排名 paragraphs, in the office's words."""
        t = self.total
        if not t.total:
            return [f"{self.label}全区没有到期的政务公开重点工作事项。"]
        done = t.done
        first = (
            f"截至{cn_day(self.as_of)}，{self.label}全区应完成政务公开重点工作事项{t.total}项，"
            f"涉及{len(self.ranking)}个单位。已完成{done}项，其中按时完成{t.done_on_time}项、"
            f"逾期完成{t.done_late}项；未完成{t.not_done}项"
            + _of_which(t)
            + (f"；免办{t.waived}项" if t.waived else "")
            + f"。全区完成率为{percent(t.completion_rate)}，按时完成率为{percent(t.on_time_rate)}。"
        )
        sentences = [first]
        perfect = [
            s.unit
            for s in self.ranking
            if 0 < s.counts.done_on_time == s.counts.total - s.counts.waived
        ]
        behind = [s.unit for s in self.ranking if s.counts.overdue]
        if perfect:
            sentences.append(
                f"{_names(perfect)}{'等' if len(perfect) > 3 else ''}{len(perfect)}个单位"
                "全部按时完成，予以通报表扬。"
            )
        if behind:
            worst = self.worst_behind()
            sentences.append(
                f"{len(behind)}个单位尚有逾期未完成事项，其中{_names(worst)}"
                f"逾期未完成事项较多、完成率较低，请切实加强。"
                if worst
                else f"{len(behind)}个单位尚有逾期未完成事项（见表2），请抓紧办理、切实加强。"
            )
        return sentences

    def worst_behind(self, most: int = 3) -> list[str]:
        """The units with overdue items that rank lowest, whole ties only: the lowest place,
        then the next, while they make at most ``most`` units. Empty when the lowest place
        alone is shared by more (49 units equally behind: naming three would be the
        alphabet's choice, not the data's)."""
        behind = [(p, s.unit) for p, s in zip(places(self.ranking), self.ranking, strict=True)]
        behind = [
            (p, u) for (p, u), s in zip(behind, self.ranking, strict=True) if s.counts.overdue
        ]
        named: list[str] = []
        for place in sorted({p for p, _ in behind}, reverse=True):
            tie = [u for p, u in behind if p == place]
            if len(named) + len(tie) > most:
                break
            named.extend(tie)
        return named

    def requirements(self) -> list[str]:
        lines = []
        if self.overdue:
            lines.append(
                "有逾期未完成事项的单位要逐项分析原因，抓紧整改，尽快完成并在系统中登记完成情况"
                "（附公开网址或佐证材料），整改情况纳入年度政务公开考核。"
            )
        lines.append(
            "各单位要对照年度政务公开工作要点和重点工作安排，提前谋划、压实责任，"
            "确保各项工作按时保质完成。"
        )
        lines.append("区政府办公室将持续跟踪各单位完成情况，定期通报。")
        return lines


def _of_which(t: UnitProgress) -> str:
    """（其中逾期未完成N项、已报送待审核M项）: what 未完成 holds besides items not yet due."""
    parts = []
    if t.overdue and t.overdue < t.not_done:
        parts.append(f"逾期未完成{t.overdue}项")
    if t.awaiting:
        parts.append(f"已报送待审核{t.awaiting}项")
    return f"（其中{'、'.join(parts)}）" if parts else ""


def _names(units: list[str]) -> str:
    return "、".join(units[:3])


def percent(rate: float) -> str:
    return f"{rate:.1%}"


def overdue_items(
    *,
    session: Session,
    start: date,
    end: date,
    today: date,
    district: str,
    titles: Mapping[str, str],
) -> list[OverdueItem]:
    """Items due from ``start`` to ``end`` that are past due (before ``today``) and not done
    (the same rule as ``derived_status``)."""
    stmt = (
        select(ChecklistItem, Unit.name)
        .join(Unit, col(Unit.id) == col(ChecklistItem.unit_id))
        .where(Unit.district == district)
        .where(ChecklistItem.status == ItemStatus.pending)
        .where(col(ChecklistItem.due) >= start)
        .where(col(ChecklistItem.due) <= min(end, today))
        .where(col(ChecklistItem.due) < today)
        .order_by(col(ChecklistItem.due), col(ChecklistItem.id))
    )
    return [
        OverdueItem(
            id=item.id,  # type: ignore[arg-type]
            unit=name,
            obligation_title=titles.get(item.obligation, item.obligation),
            period=item.period,
            step_title=item.step_title,
            due=item.due,
            days_late=(today - item.due).days,
        )
        for item, name in session.exec(stmt)
    ]


def build_bulletin(
    *,
    session: Session,
    period: Period,
    district: str,
    today: date,
    office: Office,
    rules: Rules,
    titles: Mapping[str, str],
) -> Bulletin:
    """The 通报 of the items due in ``period``, as of ``today``."""
    counts = counts_due(
        session=session,
        start=period.start,
        end=period.end,
        today=today,
        district=district,
        titles=titles,
    )
    ranking = rank([score_unit(c, rules) for c in counts])
    order = {s.unit: i for i, s in enumerate(ranking)}
    overdue = overdue_items(
        session=session,
        start=period.start,
        end=period.end,
        today=today,
        district=district,
        titles=titles,
    )
    overdue.sort(key=lambda o: (order.get(o.unit, len(order)), o.due, o.id))
    return Bulletin(
        period, district, today, office, rules, ranking, overdue, {c.kind for c in counts}
    )


def ranking_rows(b: Bulletin) -> list[list[str | int]]:
    rows: list[list[str | int]] = []
    for i, s in zip(places(b.ranking), b.ranking, strict=True):
        c = s.counts
        rows.append(
            [
                i,
                s.unit,
                c.done_on_time,
                c.done_late,
                c.not_done,
                c.waived,
                percent(c.completion_rate) if c.total > c.waived else "—",
                points(s.score),
            ]
        )
    return rows


def overdue_rows(b: Bulletin) -> list[list[str | int]]:
    return [
        [
            i,
            o.unit,
            o.obligation_title,
            cn_period(o.period),
            o.step_title,
            cn_day(o.due),
            o.days_late,
        ]
        for i, o in enumerate(b.overdue, 1)
    ]


def rules_sentence(rules: Rules) -> str:
    r = rules.default
    return (
        f"得分按考评标准计算：满分{points(rules.full_score)}分，逾期完成每项扣{points(r.late)}分，"
        f"逾期未完成每项扣{points(r.missing)}分"
        + (f"，每项重点工作最多扣{points(r.cap)}分" if r.cap is not None else "")
        + "。"
    )


# --- Markdown ----------------------------------------------------------------------------------


def _md(value: object) -> str:
    return " ".join(str(value).split()).replace("|", "\\|")


def to_markdown(b: Bulletin) -> str:
    lines = [f"# {b.title}", "", f"{b.addressees}：", ""]
    lines += [f"现将{b.label}全区政务公开重点工作完成情况通报如下。", "", "## 一、总体情况", ""]
    lines += [*b.summary_sentences(), "", "## 二、各单位完成情况", ""]
    if b.ranking:
        lines += [rules_sentence(b.rules), ""]
        lines.append("| " + " | ".join(RANKING_HEADER) + " |")
        lines.append("| ---: | --- | " + " | ".join(["---:"] * (len(RANKING_HEADER) - 2)) + " |")
        for row in ranking_rows(b):
            lines.append("| " + " | ".join(_md(v) for v in row) + " |")
    else:
        lines.append("本期没有到期事项。")
    lines += ["", "## 三、逾期未完成事项", ""]
    for unit, items in b.overdue_by_unit():
        lines.append(f"**{_md(unit)}**（{len(items)}项）")
        lines.append("")
        for o in items:
            lines.append(
                f"- {_md(o.obligation_title)}（{cn_period(o.period)}）：{_md(o.step_title)}，"
                f"截止{cn_day(o.due)}，已逾期{o.days_late}天"
            )
        lines.append("")
    if not b.overdue:
        lines += ["无逾期未完成事项。", ""]
    lines += ["## 四、工作要求", ""]
    lines += [f"{i}. {text}" for i, text in enumerate(b.requirements(), 1)]
    lines += ["", f"{b.office.name}", "", cn_day(b.as_of)]
    return "\n".join(lines) + "\n"


# --- Excel -------------------------------------------------------------------------------------


def to_xlsx(b: Bulletin) -> bytes:
    """Sheets 排名 (title row, header, units ranked, totals) and 逾期未完成事项."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "排名"

    def put(sheet, values, *, bold=False):  # type: ignore[no-untyped-def]
        sheet.append(list(values))
        cells = list(sheet[sheet.max_row])
        for cell in cells:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
            if bold:
                cell.font = Font(bold=True)
        return cells

    def finish(sheet, header_row):  # type: ignore[no-untyped-def]
        sheet.freeze_panes = f"A{header_row + 1}"
        for column in sheet.iter_cols(min_row=header_row):
            width = max((_display_width(c.value) for c in column if c.value is not None), default=0)
            sheet.column_dimensions[column[0].column_letter].width = max(width + 2, 6)

    ws.append([f"{b.label}全区政务公开重点工作完成情况（截至{cn_day(b.as_of)}）"])
    ws["A1"].font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(RANKING_HEADER))
    ws["A1"].alignment = Alignment(horizontal="center")
    put(ws, RANKING_HEADER, bold=True)
    for i, s in zip(places(b.ranking), b.ranking, strict=True):
        c = s.counts
        cells = put(
            ws,
            [
                i,
                s.unit,
                c.done_on_time,
                c.done_late,
                c.not_done,
                c.waived,
                c.completion_rate,
                s.score,
            ],
        )
        cells[6].number_format = "0.0%"
    t = b.total
    cells = put(
        ws,
        [
            "",
            "合计",
            t.done_on_time,
            t.done_late,
            t.not_done,
            t.waived,
            t.completion_rate,
            "",
        ],
        bold=True,
    )
    cells[6].number_format = "0.0%"
    put(ws, [])
    put(ws, [f"按时完成率：{percent(t.on_time_rate)}。{rules_sentence(b.rules)}"])
    finish(ws, 2)

    ws = wb.create_sheet("逾期未完成事项")
    put(ws, OVERDUE_HEADER, bold=True)
    for row in overdue_rows(b):
        put(ws, row)
    finish(ws, 1)
    ws.auto_filter.ref = ws.dimensions

    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
