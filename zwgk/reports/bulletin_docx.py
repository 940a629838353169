"""The 通报 as an official document (公文, after GB/T 9704): title in 小标宋 二号 centred,
主送, body in 仿宋 三号 with two-character indents and 黑体 first-level headings, the
ranking and overdue tables, then the 落款 (the office's name) and the date, right-aligned."""

from __future__ import annotations

import io

from notifications.render import cn_day
from zwgk.reports.bulletin import (
    OVERDUE_HEADER,
    RANKING_HEADER,
    Bulletin,
    overdue_rows,
    ranking_rows,
    rules_sentence,
)

TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
HEADING_FONT = "黑体"
TABLE_FONT = "仿宋_GB2312"


def to_docx(b: Bulletin) -> bytes:
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    doc = Document()
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)

    normal = doc.styles["Normal"]
    normal.font.name = BODY_FONT
    normal.font.size = Pt(16)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), BODY_FONT)
    normal.paragraph_format.line_spacing = Pt(28)
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.space_before = Pt(0)

    # Table text (五号, single-spaced): a paragraph style of its own, so a cell's paragraph
    # mark is the size of its text and does not keep Normal's 三号 and fixed 28-point lines.
    from docx.enum.style import WD_STYLE_TYPE

    cell_style = doc.styles.add_style("表格文字", WD_STYLE_TYPE.PARAGRAPH)
    cell_style.base_style = normal
    cell_style.font.size = Pt(11)
    cell_style.font.name = TABLE_FONT
    cell_style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), TABLE_FONT)
    cell_style.paragraph_format.line_spacing = 1.0

    def run_font(run, name: str, size: float, bold: bool = False) -> None:  # type: ignore[no-untyped-def]
        run.font.name = name
        run.font.size = Pt(size)
        run.bold = bold
        run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)

    def para(text: str = "", *, indent: bool = True, align=None, font=BODY_FONT, size=16.0):  # type: ignore[no-untyped-def]
        p = doc.add_paragraph()
        if indent:
            p.paragraph_format.first_line_indent = Pt(2 * size)
        if align is not None:
            p.alignment = align
        if text:
            run_font(p.add_run(text), font, size)
        return p

    def table(
        header: list[str], rows: list[list[str | int]], widths: list[float], left: set[int]
    ) -> None:
        """A table; ``left``: the columns of text (left-aligned), the rest centred."""
        t = doc.add_table(rows=1, cols=len(header))
        t.style = "Table Grid"
        t.alignment = WD_TABLE_ALIGNMENT.CENTER
        for cell, text in zip(t.rows[0].cells, header, strict=True):
            cell.text = ""
            p = cell.paragraphs[0]
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            p.style = cell_style
            run_font(p.add_run(text), HEADING_FONT, 11)
        for row in rows:
            cells = t.add_row().cells
            for i, (cell, value) in enumerate(zip(cells, row, strict=True)):
                p = cell.paragraphs[0]
                p.style = cell_style
                p.alignment = WD_ALIGN_PARAGRAPH.LEFT if i in left else WD_ALIGN_PARAGRAPH.CENTER
                run_font(p.add_run(str(value)), TABLE_FONT, 11)
        # LibreOffice lays a table out by its grid (w:tblGrid), Word by each cell's width:
        # set both, and fix the layout so neither stretches columns to their text.
        t.autofit = False
        # A row is never split over two pages, and the header row repeats on each page
        # (without both, LibreOffice put the ranking's header alone on a page and its rows
        # on the next, or broke the table off half a page early).
        for i, row in enumerate(t.rows):
            props = row._tr.get_or_add_trPr()
            props.append(OxmlElement("w:cantSplit"))
            if i == 0:
                props.append(OxmlElement("w:tblHeader"))
        for column, width in zip(t.columns, widths, strict=True):
            column.width = Cm(width)
        for row in t.rows:
            for cell, width in zip(row.cells, widths, strict=True):
                cell.width = Cm(width)

    title = para(b.title, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER, font=TITLE_FONT, size=22)
    title.paragraph_format.line_spacing = Pt(36)
    title.paragraph_format.space_after = Pt(16)
    para(f"{b.addressees}：", indent=False)
    para(f"为推动全区政务公开重点工作落地落实，现将{b.label}全区政务公开重点工作完成情况通报如下。")

    def heading(text: str) -> None:
        para(text, font=HEADING_FONT)

    heading("一、总体情况")
    for sentence in b.summary_sentences():
        para(sentence)

    heading("二、各单位完成情况")
    if b.ranking:
        para(
            f"各单位按得分、按时完成率、完成率从高到低排列如下（见表1）。{rules_sentence(b.rules)}"
        )
        caption = para(
            "表1  各单位完成情况排名",
            indent=False,
            align=WD_ALIGN_PARAGRAPH.CENTER,
            font=HEADING_FONT,
            size=14,
        )
        caption.paragraph_format.space_before = Pt(6)
        table(RANKING_HEADER, ranking_rows(b), [1.2, 4.2, 2.0, 2.0, 1.6, 1.2, 1.9, 1.5], {1})
    else:
        para("本期没有到期事项。")

    heading("三、逾期未完成事项")
    if b.overdue:
        groups = b.overdue_by_unit()
        para(
            f"截至{cn_day(b.as_of)}，{len(groups)}个单位共有{len(b.overdue)}项工作逾期未完成"
            "（见表2），请相关单位抓紧办理。"
        )
        caption = para(
            "表2  逾期未完成事项清单",
            indent=False,
            align=WD_ALIGN_PARAGRAPH.CENTER,
            font=HEADING_FONT,
            size=14,
        )
        caption.paragraph_format.space_before = Pt(6)
        table(OVERDUE_HEADER, overdue_rows(b), [1.0, 2.4, 2.6, 2.3, 2.9, 3.1, 1.3], {1, 2, 4})
    else:
        para("无逾期未完成事项。")

    heading("四、工作要求")
    for i, text in enumerate(b.requirements(), 1):
        para(f"{'一二三四五六七八九'[i - 1]}是{text}" if len(b.requirements()) > 1 else text)

    para()
    para()
    sign = para(b.office.name, indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)
    sign.paragraph_format.right_indent = Pt(32)
    date_line = para(cn_day(b.as_of), indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)
    date_line.paragraph_format.right_indent = Pt(32)
    if b.office.contact or b.office.phone:
        para()
        contact = "，".join(
            part
            for part in (
                f"联系人：{b.office.contact}" if b.office.contact else "",
                f"联系电话：{b.office.phone}" if b.office.phone else "",
            )
            if part
        )
        para(f"（{contact}）")

    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
