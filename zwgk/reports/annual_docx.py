"""Render the annual report draft (年度报告草稿) as Markdown or DOCX, laid out like the
published reports (seed 003): six sections, tables 二/三/四 filled in, 一/五/六 marked
for the unit to write."""

from __future__ import annotations

import io

from models.annual import (
    APPLICANT_TYPES,
    CARRIED_IN,
    CARRIED_OUT,
    COLUMNS,
    NEW,
    OUTCOME_GROUPS,
    TABLE2,
    TABLE4_GROUPS,
    TABLE4_RESULTS,
    TOTAL,
)
from zwgk.reports.annual import GROUP_NUMERALS, AnnualReport, _n

SECTIONS = (
    "一、总体情况",
    "二、主动公开政府信息情况",
    "三、收到和处理政府信息公开申请情况",
    "四、政府信息公开行政复议、行政诉讼情况",
    "五、存在的主要问题及改进情况",
    "六、其他需要报告的事项",
)
PLACEHOLDER = "【待填写：{}】"
TABLE2_ITEMS = (
    ("第二十条第（一）项", ("规章", "行政规范性文件")),
    ("第二十条第（五）项", ("行政许可",)),
    ("第二十条第（六）项", ("行政处罚", "行政强制")),
    ("第二十条第（八）项", ("行政事业性收费",)),
)
TABLE3_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"


def title(report: AnnualReport) -> str:
    return f"{report.scope} {report.year} 年政府信息公开工作年度报告"


def table3_rows(report: AnnualReport) -> list[tuple[str, str, str, dict[str, float]]]:
    """(group label, sub label, key, cells) in the statutory order."""
    t = report.table3
    rows = [
        ("一、本年新收政府信息公开申请数量", "", NEW, t[NEW]),
        ("二、上年结转政府信息公开申请数量", "", CARRIED_IN, t[CARRIED_IN]),
    ]
    for n, (group, subs) in enumerate(OUTCOME_GROUPS):
        label = f"（{GROUP_NUMERALS[n]}）{group}"
        if group == "部分公开":
            label += "（区分处理的，只计这一情形，不计其他情形）"
        if not subs:
            rows.append((label, "", group, t[group]))
        for i, sub in enumerate(subs, 1):
            rows.append((label, f"{i}.{sub}", f"{group}/{sub}", t[f"{group}/{sub}"]))
    rows.append(("（七）总计", "", TOTAL, t[TOTAL]))
    rows.append(("四、结转下年度继续办理", "", CARRIED_OUT, t[CARRIED_OUT]))
    return rows


def to_markdown(report: AnnualReport) -> str:
    out = [f"# {title(report)}", ""]
    if report.errors:
        out += (
            ["> **数据校验未通过（勾稽关系）：**", ">"] + [f"> - {e}" for e in report.errors] + [""]
        )
    out += [
        f"## {SECTIONS[0]}",
        "",
        PLACEHOLDER.format(
            "总体情况，包括主动公开、依申请公开、政府信息管理、平台建设、监督保障等方面"
        ),
        "",
    ]
    out += [f"## {SECTIONS[1]}", ""]
    for item, rows in TABLE2_ITEMS:
        cols = next(c for r, c in TABLE2 if r == rows[0])
        out += [
            f"**{item}**",
            "",
            "| 信息内容 | " + " | ".join(cols) + " |",
            "|---" * (len(cols) + 1) + "|",
        ]
        out += [
            f"| {r} | " + " | ".join(_n(report.table2[r][c]) for c in cols) + " |" for r in rows
        ]
        out.append("")
    out += [f"## {SECTIONS[2]}", "", TABLE3_NOTE, ""]
    out += ["| 项目 | | " + " | ".join(COLUMNS) + " |", "|---|---" + "|---" * len(COLUMNS) + "|"]
    out.append("| | | 自然人 | 法人或其他组织：" + " | ".join(APPLICANT_TYPES[1:]) + " | 总计 |")
    for group, sub, _key, cells in table3_rows(report):
        out.append(f"| {group} | {sub} | " + " | ".join(_n(cells[c]) for c in COLUMNS) + " |")
    out += ["", f"## {SECTIONS[3]}", ""]
    out += ["| | " + " | ".join(TABLE4_RESULTS) + " |", "|---" * (len(TABLE4_RESULTS) + 1) + "|"]
    out += [
        f"| {g} | " + " | ".join(_n(report.table4[g][r]) for r in TABLE4_RESULTS) + " |"
        for g in TABLE4_GROUPS
    ]
    out += [
        "",
        f"## {SECTIONS[4]}",
        "",
        PLACEHOLDER.format("本年度存在的主要问题，以及上年度问题的改进情况"),
        "",
    ]
    out += [
        f"## {SECTIONS[5]}",
        "",
        PLACEHOLDER.format("贯彻落实政务公开工作要点情况、信息处理费收费情况等"),
        "",
    ]
    return "\n".join(out)


def to_docx(report: AnnualReport) -> bytes:
    # python-docx is heavy (lxml); loaded only when a DOCX is written.
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX
    from docx.oxml.ns import qn
    from docx.shared import Pt

    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "仿宋"
    style.font.size = Pt(12)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "仿宋")
    heading = doc.add_heading(title(report), level=0)
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if report.errors:
        p = doc.add_paragraph()
        p.add_run("数据校验未通过（勾稽关系），请核对：").bold = True
        for e in report.errors:
            doc.add_paragraph(e, style="List Bullet")

    def placeholder(text: str) -> None:
        run = doc.add_paragraph().add_run(PLACEHOLDER.format(text))
        run.font.highlight_color = WD_COLOR_INDEX.YELLOW

    doc.add_heading(SECTIONS[0], level=1)
    placeholder("总体情况，包括主动公开、依申请公开、政府信息管理、平台建设、监督保障等方面")

    doc.add_heading(SECTIONS[1], level=1)
    for item, rows in TABLE2_ITEMS:
        cols = next(c for r, c in TABLE2 if r == rows[0])
        table = doc.add_table(rows=2 + len(rows), cols=len(cols) + 1)
        table.style = "Table Grid"
        merged = table.cell(0, 0).merge(table.cell(0, len(cols)))
        merged.text = item
        table.cell(1, 0).text = "信息内容"
        for j, c in enumerate(cols, 1):
            table.cell(1, j).text = c
        for i, r in enumerate(rows, 2):
            table.cell(i, 0).text = r
            for j, c in enumerate(cols, 1):
                table.cell(i, j).text = _n(report.table2[r][c])
        doc.add_paragraph()

    doc.add_heading(SECTIONS[2], level=1)
    rows3 = table3_rows(report)
    t = doc.add_table(rows=3 + len(rows3), cols=2 + len(COLUMNS))
    t.style = "Table Grid"
    t.cell(0, 0).merge(t.cell(2, 1)).text = TABLE3_NOTE
    t.cell(0, 2).merge(t.cell(0, 2 + len(APPLICANT_TYPES) - 1)).text = "申请人情况"
    t.cell(0, 2 + len(APPLICANT_TYPES)).merge(t.cell(2, 2 + len(APPLICANT_TYPES))).text = "总计"
    t.cell(1, 2).merge(t.cell(2, 2)).text = "自然人"
    t.cell(1, 3).merge(t.cell(1, 2 + len(APPLICANT_TYPES) - 1)).text = "法人或其他组织"
    for j, c in enumerate(APPLICANT_TYPES[1:], 3):
        t.cell(2, j).text = c
    group_start: dict[str, int] = {}
    for i, (group, sub, _key, cells) in enumerate(rows3, 3):
        if sub:
            if group not in group_start:
                group_start[group] = i
                t.cell(i, 0).text = group
            else:
                t.cell(group_start[group], 0).merge(t.cell(i, 0))
            t.cell(i, 1).text = sub
        else:
            t.cell(i, 0).merge(t.cell(i, 1)).text = group
        for j, c in enumerate(COLUMNS, 2):
            t.cell(i, j).text = _n(cells[c])

    doc.add_heading(SECTIONS[3], level=1)
    n = len(TABLE4_RESULTS)
    t4 = doc.add_table(rows=4, cols=3 * n)
    t4.style = "Table Grid"
    t4.cell(0, 0).merge(t4.cell(0, n - 1)).text = "行政复议"
    t4.cell(0, n).merge(t4.cell(0, 3 * n - 1)).text = "行政诉讼"
    t4.cell(1, n).merge(t4.cell(1, 2 * n - 1)).text = "未经复议直接起诉"
    t4.cell(1, 2 * n).merge(t4.cell(1, 3 * n - 1)).text = "复议后起诉"
    for gi, g in enumerate(TABLE4_GROUPS):
        for ri, r in enumerate(TABLE4_RESULTS):
            at = gi * n + ri
            label = t4.cell(1, at).merge(t4.cell(2, at)) if gi == 0 else t4.cell(2, at)
            label.text = r
            t4.cell(3, at).text = _n(report.table4[g][r])

    doc.add_heading(SECTIONS[4], level=1)
    placeholder("本年度存在的主要问题，以及上年度问题的改进情况")
    doc.add_heading(SECTIONS[5], level=1)
    placeholder("贯彻落实政务公开工作要点情况、信息处理费收费情况等")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
