"""Render the annual report draft (年度报告草稿) as Markdown or DOCX, laid out like the
published reports (seed 003): the title with the district's full name, the standard preamble,
section 一 drafted from the tables (requests received, handled and carried over, by applicant
type, outcomes with their shares, reviews and lawsuits, the change from last year), tables
二/三/四 filled in; what the data cannot tell stays marked 【待填写】 for the office."""

from __future__ import annotations

import io
import re

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
from zwgk.config import Office, get_settings
from zwgk.reports.annual import GROUP_NUMERALS, AnnualReport, Table, _n
from zwgk.reports.annual_work import other_matters_section, problems_section

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
RESULTS_LABEL = "三、本年度办理结果"
TABLE3_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"


def _office(report: AnnualReport) -> Office:
    return get_settings().office_for(report.district or None)


def full_scope(report: AnnualReport) -> str:
    """ "上海市长宁区" for a district, "上海市长宁区教育局" for its 区教育局, from the office's
    full name (ZWGK_OFFICE_FULL_NAME, or "full_name" in ZWGK_OFFICES); else the name as is."""
    region = _office(report).full_name.removesuffix("人民政府办公室").removesuffix("政府办公室")
    if not region:
        return report.scope
    if report.scope == report.district:
        return region if region.endswith(report.district) else report.scope
    if report.scope.startswith("区政府") and region.endswith("区"):
        return region + "人民政府" + report.scope[3:]  # 区政府办公室 → …区人民政府办公室
    if report.scope.startswith("区") and region.endswith("区"):
        return region + report.scope[1:]
    return report.scope


def title(report: AnnualReport) -> str:
    return f"{full_scope(report)}{report.year}年政府信息公开工作年度报告"


def preamble(report: AnnualReport) -> str:
    office = _office(report)
    who = office.full_name or office.name
    contact = "，".join(x for x in (office.contact, office.phone) if x) or PLACEHOLDER.format(
        "地址、邮编、电话、电子邮箱"
    )
    return (
        "本年度报告根据《中华人民共和国政府信息公开条例》（以下简称《条例》）的要求编制。"
        "全文包括总体情况、主动公开政府信息情况、收到和处理政府信息公开申请情况、"
        "政府信息公开行政复议和行政诉讼情况、存在的主要问题及改进情况，以及其他需要报告的事项。"
        f"本年度报告中所列数据统计期限为{report.year}年1月1日至12月31日。"
        f"本年度报告电子版可从{PLACEHOLDER.format('门户网站名称及网址')}下载。"
        f"如对本年度报告有疑问，请与{who}联系（{contact}）。"
    )


def _pct(part: float, whole: float) -> str:
    return f"{part / whole * 100:.2f}%" if whole else "0%"


def _change(now: float, before: float, year: int) -> str:
    if before == 0:
        return f"{year}年为0件"
    if now == before:
        return f"与{year}年持平"
    word = "上升" if now > before else "下降"
    return f"较{year}年{word}{abs(now - before) / before * 100:.2f}%（{year}年为{_n(before)}件）"


def _group_totals(t: Table) -> list[tuple[str, float]]:
    return [
        (g, sum(t[f"{g}/{s}" if s else g]["总计"] for s in (subs or ("",))))
        for g, subs in OUTCOME_GROUPS
    ]


def overview(report: AnnualReport) -> list[tuple[str, str]]:
    """Section 一 as (kind, text): "h" a sub-heading, "p" a paragraph (may hold 【待填写】)."""
    y, t, t4 = report.year, report.table3, report.table4
    p3, p4 = report.previous3, report.previous4
    who = "全区" if report.scope == report.district else "本机关"
    todo = PLACEHOLDER.format
    out: list[tuple[str, str]] = [("p", todo(f"{y}年政务公开工作总体情况概述"))]
    out.append(("h", "（一）主动公开方面"))
    rules = report.table2["行政规范性文件"]
    first = (
        f"{y}年，{who}制发行政规范性文件{_n(rules['本年制发件数'])}件，废止"
        f"{_n(rules['本年废止件数'])}件，现行有效{_n(rules['现行有效件数'])}件。"
        if any(rules.values())
        else ""
    )
    out.append(("p", first + todo("主动公开工作情况")))
    out.append(("h", "（二）依申请公开方面"))
    new = t[NEW]["总计"]
    legal = new - t[NEW]["自然人"]
    if p3 is None:
        compare = todo(f"与{y - 1}年的比较（系统中没有{y - 1}年的数据）")
    else:
        compare = "申请数量" + _change(new, p3[NEW]["总计"], y - 1)
    text = (
        f"{y}年，{who}共收到政府信息公开申请{_n(new)}件，{compare}；其中自然人申请"
        f"{_n(t[NEW]['自然人'])}件，法人或其他组织申请{_n(legal)}件。"
        f"本年度办理答复政府信息公开申请{_n(t[TOTAL]['总计'])}件（含上年结转"
        f"{_n(t[CARRIED_IN]['总计'])}件），结转下年度继续办理{_n(t[CARRIED_OUT]['总计'])}件。"
    )
    whole = t[TOTAL]["总计"]
    groups = dict(_group_totals(t))
    if whole:
        parts = []
        shown = groups["予以公开"] + groups["部分公开"]
        if shown:
            parts.append(f"予以公开及部分公开{_n(shown)}件，占{_pct(shown, whole)}")
        for g in ("不予公开", "无法提供", "不予处理", "其他处理"):
            if groups[g]:
                parts.append(f"{g}{_n(groups[g])}件，占{_pct(groups[g], whole)}")
        text += "办理结果中，" + "；".join(parts) + "。"
    reviews = t4["行政复议"]["总计"]
    suits = t4["未经复议直接起诉"]["总计"] + t4["复议后起诉"]["总计"]
    corrected = t4["未经复议直接起诉"]["结果纠正"] + t4["复议后起诉"]["结果纠正"]
    text += (
        f"信息公开类行政复议{_n(reviews)}件，结果纠正{_n(t4['行政复议']['结果纠正'])}件；"
        if reviews
        else "未发生信息公开类行政复议；"
    )
    text += (
        f"信息公开类行政诉讼{_n(suits)}件，结果纠正{_n(corrected)}件"
        if suits
        else "未发生信息公开类行政诉讼"
    )
    if p4 is not None and (reviews or suits or any(v for r in p4.values() for v in r.values())):
        before = p4["未经复议直接起诉"]["总计"] + p4["复议后起诉"]["总计"]
        text += f"（{y - 1}年分别为行政复议{_n(p4['行政复议']['总计'])}件、行政诉讼{_n(before)}件）"
    text += "。" + todo("依申请公开办理工作的做法和成效")
    out.append(("p", text))
    for h, what in (
        ("（三）政府信息管理方面", "政府信息管理工作情况"),
        ("（四）平台建设方面", "政府网站、政务新媒体等平台建设情况"),
        ("（五）监督保障方面", "组织领导、培训、考核、监督等情况"),
    ):
        out += [("h", h), ("p", todo(what))]
    return out


FEE_REFUSALS = "其他处理/申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请"


def problems(report: AnnualReport) -> list[tuple[str, str]]:
    """Section 五 drafted from the year's overdue items and returned submissions."""
    if report.work is None:
        return [("p", PLACEHOLDER.format("本年度存在的主要问题，以及上年度问题的改进情况"))]
    return problems_section(report.work, district_wide=report.scope == report.district)


def other_matters(report: AnnualReport) -> list[tuple[str, str]]:
    """Section 六 drafted from the work plan's progress; the fixed items marked or stated."""
    if report.work is None:
        return [("p", PLACEHOLDER.format("贯彻落实政务公开工作要点情况、信息处理费收费情况等"))]
    return other_matters_section(
        report.work,
        district_wide=report.scope == report.district,
        fee_refusals=report.table3[FEE_REFUSALS]["总计"],
    )


def table3_rows(report: AnnualReport) -> list[tuple[str, str, str, dict[str, float]]]:
    """(group label, sub label, key, cells) in the statutory order."""
    t = report.table3
    rows = [
        ("一、本年新收政府信息公开申请数量", "", NEW, t[NEW]),
        ("二、上年结转政府信息公开申请数量", "", CARRIED_IN, t[CARRIED_IN]),
        (RESULTS_LABEL, "", "", {}),  # the label row over (一)…(七), no figures of its own
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
    out = [f"# {title(report)}", "", preamble(report), ""]
    if report.errors:
        out += (
            ["> **数据校验未通过（勾稽关系）：**", ">"] + [f"> - {e}" for e in report.errors] + [""]
        )
    out += [f"## {SECTIONS[0]}", ""]
    for kind, text in overview(report):
        out += [f"### {text}" if kind == "h" else text, ""]
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
        figures = [_n(cells[c]) if cells else "" for c in COLUMNS]
        out.append(f"| {group} | {sub} | " + " | ".join(figures) + " |")
    out += ["", f"## {SECTIONS[3]}", ""]
    out += ["| | " + " | ".join(TABLE4_RESULTS) + " |", "|---" * (len(TABLE4_RESULTS) + 1) + "|"]
    out += [
        f"| {g} | " + " | ".join(_n(report.table4[g][r]) for r in TABLE4_RESULTS) + " |"
        for g in TABLE4_GROUPS
    ]
    out.append("")
    for heading, section in ((SECTIONS[4], problems), (SECTIONS[5], other_matters)):
        out += [f"## {heading}", ""]
        for kind, text in section(report):
            out += [f"### {text}" if kind == "h" else text, ""]
    return "\n".join(out)


TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
HEADING_FONT = "黑体"  # 一、…
SUBHEADING_FONT = "楷体_GB2312"  # （一）…


def _official_styles(doc):  # type: ignore[no-untyped-def]
    """Lay ``doc`` out as the published reports are: A4 with 公文 margins, body 仿宋 三号 on
    28-point lines, the title in 小标宋 二号, 一、 headings in 黑体 and （一） in 楷体 (black,
    not Word's blue), tables in 五号. Returns the tables' paragraph style."""
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt, RGBColor

    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)

    def font(style, name: str, size: float) -> None:  # type: ignore[no-untyped-def]
        style.font.name = name
        style.font.size = Pt(size)
        style.font.bold = False
        style.font.color.rgb = RGBColor(0, 0, 0)
        style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)
        for attr in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme"):
            style.element.rPr.rFonts.attrib.pop(qn(f"w:{attr}"), None)

    normal = doc.styles["Normal"]
    font(normal, BODY_FONT, 16)
    normal.paragraph_format.line_spacing = Pt(28)
    normal.paragraph_format.space_before = normal.paragraph_format.space_after = Pt(0)
    for name, face, size in (
        ("Title", TITLE_FONT, 22),
        ("Heading 1", HEADING_FONT, 16),
        ("Heading 2", SUBHEADING_FONT, 16),
    ):
        style = doc.styles[name]
        font(style, face, size)
        fmt = style.paragraph_format
        fmt.space_before, fmt.space_after = (
            Pt(12 if name == "Title" else 0),
            Pt(12 if name == "Title" else 0),
        )
        fmt.line_spacing = Pt(36 if name == "Title" else 28)
        if name != "Title":
            fmt.first_line_indent = Pt(32)
        border = style.element.pPr.find(qn("w:pBdr")) if style.element.pPr is not None else None
        if border is not None:  # the template's Title has a rule under it
            style.element.pPr.remove(border)
    cells = doc.styles.add_style("表格文字", WD_STYLE_TYPE.PARAGRAPH)
    cells.base_style = normal
    font(cells, BODY_FONT, 10.5)
    cells.paragraph_format.line_spacing = 1.0
    return cells


def to_docx(report: AnnualReport) -> bytes:
    # python-docx is heavy (lxml); loaded only when a DOCX is written.
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX
    from docx.oxml import OxmlElement
    from docx.shared import Cm, Pt

    doc = Document()
    cell_style = _official_styles(doc)
    heading = doc.add_heading(title(report), level=0)
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if report.errors:
        p = doc.add_paragraph()
        p.add_run("数据校验未通过（勾稽关系），请核对：").bold = True
        for e in report.errors:
            doc.add_paragraph(e, style="List Bullet")

    def paragraph(text: str) -> None:
        """Prose; each 【待填写…】 in it highlighted for the office."""
        p = doc.add_paragraph()
        p.paragraph_format.first_line_indent = Pt(32)
        for piece in re.split(r"(【待填写：[^】]*】)", text):
            if piece:
                run = p.add_run(piece)
                if piece.startswith("【待填写"):
                    run.font.highlight_color = WD_COLOR_INDEX.YELLOW

    paragraph(preamble(report))
    doc.add_heading(SECTIONS[0], level=1)
    for kind, text in overview(report):
        if kind == "h":
            doc.add_heading(text, level=2)
        else:
            paragraph(text)

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
            t.cell(i, j).text = _n(cells[c]) if cells else ""

    # Labels wide and figures narrow, as printed (Word and LibreOffice read different widths).
    label_widths = [2.2, 4.6]
    figure_width = (15.6 - sum(label_widths)) / len(COLUMNS)
    t.autofit = False
    for j, width in enumerate(label_widths + [figure_width] * len(COLUMNS)):
        t.columns[j].width = Cm(width)
        for cell in t.columns[j].cells:
            cell.width = Cm(width)

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

    for heading, section in ((SECTIONS[4], problems), (SECTIONS[5], other_matters)):
        doc.add_heading(heading, level=1)
        for kind, text in section(report):
            if kind == "h":
                doc.add_heading(text, level=2)
            else:
                paragraph(text)
    for table in doc.tables:  # 五号 single-spaced, centred, rows kept whole
        for row in table.rows:
            row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
            for cell in row.cells:
                for p in cell.paragraphs:
                    p.style = cell_style
                    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
