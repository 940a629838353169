"""Progress reports: counts, CSV/Excel/Markdown output and the completion chart."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook

from zwgk.reports.progress import (
    ItemRow,
    completion_chart_svg,
    completion_series,
    summarize,
    to_csv,
    to_markdown,
    to_xlsx,
)

FILING = ("monthly-filing", "新增非密公文全量备案")
ANNUAL = ("annual-report", "政府信息公开工作年度报告")
DUE = date(2026, 11, 20)


def item(
    id: int,
    unit: str,
    status: str,
    *,
    obligation: tuple[str, str] = FILING,
    completed_at: datetime | None = None,
    on_time: bool | None = None,
    awaiting_review: bool = False,
    step_title: str = "上传备案材料",
    role: str = "responsible",
    due: date = DUE,
) -> ItemRow:
    return ItemRow(
        id=id,
        obligation=obligation[0],
        obligation_title=obligation[1],
        period="2026-11",
        unit=unit,
        step="upload",
        step_title=step_title,
        role=role,
        due=due,
        status=status,
        completed_at=completed_at,
        on_time=on_time,
        awaiting_review=awaiting_review,
    )


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def sample() -> list[ItemRow]:
    return [
        item(1, "区教育局", "done", completed_at=utc(2026, 11, 18, 2), on_time=True),
        item(2, "区教育局", "done", completed_at=utc(2026, 11, 22, 2), on_time=False),
        item(3, "区教育局", "overdue", due=date(2026, 11, 20), role="lead"),
        item(4, "区教育局", "overdue", due=date(2026, 11, 10)),
        item(5, "新泾镇", "pending", due=date(2026, 11, 30)),
        item(6, "新泾镇", "waived"),
        item(7, "区教育局", "pending", obligation=ANNUAL, due=date(2027, 1, 31)),
        item(8, "新泾镇", "done", completed_at=utc(2026, 11, 19, 1), on_time=True),
    ]


def test_counts_add_up() -> None:
    summary = summarize(sample())
    assert [(p.obligation, p.unit) for p in summary] == [
        ("monthly-filing", "区教育局"),
        ("monthly-filing", "新泾镇"),
        ("annual-report", "区教育局"),
    ]
    for p in summary:
        assert p.done_on_time + p.done_late + p.open + p.overdue + p.waived == p.total
    assert sum(p.total for p in summary) == len(sample())
    jyj, xjz, annual = summary
    assert (jyj.done_on_time, jyj.done_late, jyj.open, jyj.overdue, jyj.waived) == (1, 1, 0, 2, 0)
    assert jyj.completion_rate == 0.5
    assert [r.id for r in jyj.overdue_items] == [4, 3]  # earliest due first
    assert (xjz.open, xjz.waived, xjz.done_on_time) == (1, 1, 1)
    assert xjz.completion_rate == 0.5  # waived items don't count against the unit
    assert annual.completion_rate == 0.0


def test_on_time_vs_late() -> None:
    rows = [
        item(
            1, "区教育局", "done", completed_at=utc(2026, 11, 25), on_time=True
        ),  # recorded verdict wins
        item(2, "区教育局", "done", completed_at=utc(2026, 11, 1), on_time=False),
        # No verdict: judged by the Shanghai date of completion (16:30Z on the 20th is the 21st there).
        item(3, "区教育局", "done", completed_at=utc(2026, 11, 20, 15, 59), on_time=None),
        item(4, "区教育局", "done", completed_at=utc(2026, 11, 20, 16, 30), on_time=None),
    ]
    (p,) = summarize(rows)
    assert (p.done_on_time, p.done_late) == (2, 2)
    assert p.completion_rate == 1.0


def test_csv_opens_in_excel_encoding() -> None:
    data = to_csv(sample())
    assert data.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert lines[0] == [
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
    assert lines[1] == [
        "新增非密公文全量备案",
        "区教育局",
        "1",
        "1",
        "0",
        "0",
        "2",
        "0",
        "4",
        "50.0%",
    ]
    assert lines[4] == []
    assert lines[5] == ["逾期事项清单"]
    assert lines[6] == ["事项编号", "事项", "期间", "单位", "工作内容", "角色", "截止日期"]
    assert lines[7:] == [
        [
            "4",
            "新增非密公文全量备案",
            "2026年11月",
            "区教育局",
            "上传备案材料",
            "负责",
            "2026-11-10",
        ],
        [
            "3",
            "新增非密公文全量备案",
            "2026年11月",
            "区教育局",
            "上传备案材料",
            "牵头",
            "2026-11-20",
        ],
    ]


def test_xlsx_round_trip() -> None:
    rows = [*sample(), item(9, "华阳路街道", "overdue", step_title="=SUM(A1)")]
    wb = load_workbook(io.BytesIO(to_xlsx(rows)))
    assert wb.sheetnames == ["汇总", "逾期事项"]

    ws = wb["汇总"]
    values = [list(r) for r in ws.iter_rows(values_only=True)]
    assert values[0] == [
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
    assert values[1] == ["新增非密公文全量备案", "区教育局", 1, 1, 0, 0, 2, 0, 4, 0.5]
    assert values[3][1] == "华阳路街道"
    assert values[4][:9] == ["新增非密公文全量备案", "合计", 2, 1, 0, 1, 3, 1, 8]
    assert values[4][9] == pytest.approx(3 / 7)
    assert values[5][:2] == ["政府信息公开工作年度报告", "区教育局"]
    assert values[6][:2] == ["政府信息公开工作年度报告", "合计"]
    assert ws["A1"].font.b and ws["B5"].font.b and not ws["B2"].font.b
    assert ws.freeze_panes == "A2"
    assert ws["J2"].number_format == "0.0%"
    assert ws.column_dimensions["A"].width >= 2 * len("政府信息公开工作年度报告")

    ws = wb["逾期事项"]
    values = [list(r) for r in ws.iter_rows(values_only=True)]
    assert values[0] == ["事项编号", "事项", "期间", "单位", "工作内容", "角色", "截止日期"]
    assert values[1] == [
        4,
        "新增非密公文全量备案",
        "2026年11月",
        "区教育局",
        "上传备案材料",
        "负责",
        datetime(2026, 11, 10),
    ]
    assert values[3][4] == "=SUM(A1)"  # user text stays text, never a formula
    assert ws["G2"].number_format == "yyyy-mm-dd"
    assert ws["G2"].is_date
    assert ws.freeze_panes == "A2"


def test_markdown_escapes_pipes() -> None:
    rows = [
        item(1, "区|教育局", "overdue", step_title="上传|备案"),
        item(2, "新泾镇", "done", completed_at=utc(2026, 11, 1), on_time=True),
    ]
    md = to_markdown(rows, title="2026年11月 进度")
    lines = md.splitlines()
    assert lines[0] == "## 2026年11月 进度"
    table = [line for line in lines if line.startswith("|")]
    assert (
        table[0]
        == "| 事项 | 单位 | 按时完成 | 逾期完成 | 待审核 | 未到期 | 已逾期 | 免办 | 合计 | 完成率 |"
    )
    assert "| 新增非密公文全量备案 | 区\\|教育局 | 0 | 0 | 0 | 0 | 1 | 0 | 1 | 0.0% |" in table
    # Every table row has the same number of unescaped separators.
    assert {line.replace("\\|", "").count("|") for line in table} == {11}
    assert "### 逾期事项" in lines
    assert any(line.startswith("- 区\\|教育局") and "上传\\|备案" in line for line in lines)
    assert "无逾期事项。" not in md

    md = to_markdown(rows[1:], title="无逾期")
    assert md.rstrip().endswith("### 逾期事项\n\n无逾期事项。")


def test_series_uses_shanghai_dates() -> None:
    rows = [
        item(1, "区教育局", "done", completed_at=utc(2026, 11, 24, 17, 30), on_time=True),
        item(2, "新泾镇", "done", completed_at=utc(2026, 11, 23, 3), on_time=True),
        item(3, "华阳路街道", "pending"),
        item(4, "区发展改革委", "waived"),
    ]
    series = completion_series(rows, start=date(2026, 11, 22), end=date(2026, 11, 25))
    assert series == [
        (date(2026, 11, 22), 0, 3),
        (date(2026, 11, 23), 1, 3),
        (date(2026, 11, 24), 1, 3),
        (date(2026, 11, 25), 2, 3),
    ]


def test_chart_is_valid_svg() -> None:
    rows = sample()
    start, end = date(2026, 11, 15), date(2026, 11, 30)
    chart = completion_chart_svg(
        {
            "新增非密公文全量备案": completion_series(rows[:6], start=start, end=end),
            "年报 <A&B>": completion_series(rows[6:], start=start, end=end),
        },
        title="完成率 & 进度",
    )
    root = ET.fromstring(chart)
    ns = {"svg": "http://www.w3.org/2000/svg"}
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "Microsoft YaHei" in root.get("font-family", "")
    assert len(root.findall("svg:polyline[@stroke-width='2']", ns)) == 2
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert {
        "完成率 & 进度",
        "新增非密公文全量备案",
        "年报 <A&B>",
        "日期",
        "100%",
        "11月15日",
    } <= set(texts)
    for polyline in root.findall("svg:polyline[@stroke-width='2']", ns):
        ys = [float(p.split(",")[1]) for p in polyline.get("points", "").split()]
        assert len(ys) == 16 and ys == sorted(ys, reverse=True)  # completion only rises
    assert "<script" not in chart and "@import" not in chart and "href" not in chart


def test_empty_input() -> None:
    assert summarize([]) == []

    lines = list(csv.reader(io.StringIO(to_csv([]).decode("utf-8-sig"), newline="")))
    assert lines == [lines[0], [], ["逾期事项清单"], lines[3]]

    wb = load_workbook(io.BytesIO(to_xlsx([])))
    assert [wb[name].max_row for name in ("汇总", "逾期事项")] == [1, 1]

    md = to_markdown([], title="空")
    assert md.startswith("## 空\n") and "无逾期事项。" in md

    day = date(2026, 11, 1)
    assert completion_series([], start=day, end=day) == [(day, 0, 0)]
    assert completion_series(sample(), start=day, end=date(2026, 10, 31)) == []

    empty: list[dict[str, list[tuple[date, int, int]]]] = [{}, {"空": []}, {"一天": [(day, 0, 0)]}]
    for series in empty:
        root = ET.fromstring(completion_chart_svg(series, title="空"))
        assert root.tag.endswith("svg")


def test_awaiting_review_is_apart_and_not_done() -> None:
    """待审核: handed in by the unit, not done until the office's 通过; in the total, not in
    完成率 nor in the completion curve."""
    rows = [
        item(1, "区教育局", "done", completed_at=utc(2026, 11, 18, 2), on_time=True),
        item(
            2,
            "区教育局",
            "done",
            completed_at=utc(2026, 11, 19, 2),
            on_time=True,
            awaiting_review=True,
        ),
        item(3, "区教育局", "pending", due=date(2026, 11, 30)),
    ]
    (p,) = summarize(rows)
    assert (p.done_on_time, p.awaiting, p.open, p.total) == (1, 1, 1, 3)
    assert p.done == 1 and p.not_done == 2
    assert p.completion_rate == pytest.approx(1 / 3)
    lines = list(csv.reader(io.StringIO(to_csv(rows).decode("utf-8-sig"), newline="")))
    assert lines[1] == [
        "新增非密公文全量备案",
        "区教育局",
        "1",
        "0",
        "1",
        "1",
        "0",
        "0",
        "3",
        "33.3%",
    ]
    series = completion_series(rows, start=date(2026, 11, 18), end=date(2026, 11, 20))
    assert [done for _, done, _ in series] == [1, 1, 1]
