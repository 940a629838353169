"""Annual-report tables pasted as a grid (``zwgk annual import --paste``): what an office gets
by copying tables 二/三/四 out of a published report (PDF, Word, a web page) or Excel.

The text is tab-separated, one printed row a line. In each line the cells before the first
figure are the row's label (as printed, possibly split over two cells: "（三）不予公开" and
"1.属于国家秘密", or only "2.…" where the group's cell is merged above), the figures follow in
the national column order. Lines without figures are headings and column headers: skipped,
except a table's own heading ("三、收到和处理政府信息公开申请情况"), which switches the table the
rows below belong to. A text with no such heading takes the table given by the caller.

* 表三: each row's last seven figures are 自然人, 商业企业, 科研机构, 社会公益组织, 法律服务
  机构, 其他, 总计; a sub-row printed without its group ("2.重复申请") takes the group of the
  last row that named one.
* 表四: the fifteen figures of its one printed row (行政复议 5, 未经复议直接起诉 5, 复议后起诉 5),
  or a row per group labelled with the group and its five figures.
* 表二: each row labelled as printed (规章, 行政规范性文件, 行政许可 …) with that row's figures
  (本年制发件数, 本年废止件数, 现行有效件数; or the one figure).

Labels resolve through ``models.annual.resolve_cell`` (an unknown one names the closest valid
label), figures through ``zwgk.intake.figures.parse_value``, and the cells are written with
``set_figure``: every problem is collected, each naming the line and the cell as printed, and
any problem writes nothing.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from sqlmodel import Session

from models.annual import (
    APPLICANT_TYPES,
    COLUMNS,
    TABLE2,
    TABLE4_GROUPS,
    TABLE4_RESULTS,
    cell_label,
    resolve_cell,
)
from models.unit import Unit
from zwgk.errors import UserError, clip, refused
from zwgk.intake.figures import parse_value, set_figure

NUMBER = re.compile(r"^[-+−]?[0-9][0-9,，]*(?:\.[0-9]+)?$")
# A table's heading in the national format, by the words only it has.
HEADINGS = (
    ("主动公开政府信息情况", "table2"),
    ("收到和处理政府信息公开申请情况", "table3"),
    ("行政复议、行政诉讼情况", "table4"),
    ("行政复议和行政诉讼情况", "table4"),
)
SUBROW = re.compile(r"^\s*[0-9]{1,2}\s*[.、．]")
GROUP = re.compile(r"[（(]\s*[一二三四五六七]\s*[)）]")
TABLE3_FIGURES = len(COLUMNS)  # 6 applicant columns + 总计
TABLE4_FIGURES = len(TABLE4_GROUPS) * len(TABLE4_RESULTS)


@dataclass(frozen=True)
class GridCell:
    line: int
    table: str
    row: str
    col: str
    value: float


# A cell every table has, to learn which table a name (表三, 三, table3) means.
_PROBES = (("规章", "本年制发件数"), ("总计", "总计"), ("行政复议", "总计"))


def _table_of(text: str) -> str | None:
    """table2/3/4 from how the caller named it (表三, 三, table3), or None."""
    for row, col in _PROBES:
        try:
            return resolve_cell(text, row, col)[0]
        except ValueError:
            continue
    return None


def _lines(text: str) -> list[tuple[int, list[str]]]:
    """(line number, stripped cells) of each row. Excel puts a cell holding a line break in
    double quotes ("（二）部分公开⏎（区分处理的…）"), so rows are read as tab-separated CSV; such a
    cell's line breaks become spaces, and the row is numbered by its first line."""
    rows = []
    reader = csv.reader(io.StringIO(text), delimiter="\t", quotechar='"')
    start = 1
    for cells in reader:
        rows.append((start, [" ".join(c.replace("\u3000", " ").split()) for c in cells]))
        start = reader.line_num + 1
    return rows


def _group_of(label: str) -> str | None:
    """The outcome group a 表三 label prints ("（三）不予公开" of "三、本年度办理结果 （三）不予公开
    1.属于国家秘密"), or None."""
    m = GROUP.search(label)
    if m is None:
        return None
    rest = label[m.start() :]
    n = re.search(r"[0-9]{1,2}\s*[.、．]", rest)
    return (rest[: n.start()] if n else rest).strip()


# Full-width digits (０–９), as an office's Excel or IME often types them, read as digits.
FULL_WIDTH = str.maketrans("０１２３４５６７８９", "0123456789")


def parse_grid(text: str, *, table: str | None = None, where: str = "粘贴的表格") -> list[GridCell]:
    """The cells of the pasted tables; UserError listing every problem (line and cell)."""
    current = _table_of(table) if table else None
    if table and current is None:
        raise UserError(
            f"没有「{table}」这张表，应为 表二、表三 或 表四（也可写 二/三/四、table2/3/4）"
        )
    cells: list[GridCell] = []
    errors: list[str] = []
    group = ""  # 表三: the outcome group of the last row that printed one
    seen: dict[tuple[str, str, str], int] = {}
    for lineno, cells_in in _lines(text):
        parts = [c.translate(FULL_WIDTH) for c in cells_in]
        raw = "\t".join(parts)
        at = f"{where}第 {lineno} 行"
        first = next((i for i, c in enumerate(parts) if NUMBER.match(c)), None)
        if first is None:
            joined = "".join(parts)
            for words, key in HEADINGS:
                if words in joined:
                    current, group = key, ""
            continue
        label_cells = [c for c in parts[:first] if c]
        figures = [c for c in parts[first:] if c]
        bad = [c for c in figures if not NUMBER.match(c)]
        label = " ".join(label_cells)
        if current is None:
            errors.append(
                f"{at}「{clip(label or raw)}」：不知道属于哪张表——请用 --table 指定（表二、表三、表四），"
                "或把表格上方的标题（如「三、收到和处理政府信息公开申请情况」）一并粘贴"
            )
            break
        if bad:
            errors.append(f"{at}「{clip(label)}」：「{clip(bad[0])}」不是数字")
            continue
        try:
            found = _row_cells(current, label, figures, group)
        except ValueError as exc:
            errors.append(f"{at}：{exc}")
            continue
        if current == "table3" and (g := _group_of(label)) is not None:
            group = g
        twice = next((cell for cell, _f in found if cell in seen), None)
        if twice is not None:
            row_name = cell_label(*twice).rsplit("行「", 1)[0] + "行"
            errors.append(f"{at}：{row_name}与第 {seen[twice]} 行重复")
            continue
        for (t, r, c), figure in found:
            try:
                value = parse_value(figure, cell_label(t, r, c))
            except ValueError as exc:
                errors.append(f"{at}：{exc}")
                continue
            seen[(t, r, c)] = lineno
            cells.append(GridCell(lineno, t, r, c, value))
    if not errors and not cells:
        errors.append(f"{where}中没有任何数字：请粘贴年报表格（含数字的各行）")
    if errors:
        raise refused("年报表格", errors)
    return cells


def _row_cells(
    table: str, label: str, figures: list[str], group: str
) -> list[tuple[tuple[str, str, str], str]]:
    """((table, row, col), figure) of one printed row; ValueError naming what is wrong."""
    if table == "table3":
        if len(figures) < TABLE3_FIGURES:
            raise ValueError(
                f"表三「{clip(label)}」行应有 {TABLE3_FIGURES} 个数（自然人、"
                f"{'、'.join(APPLICANT_TYPES[1:])}、总计），只有 {len(figures)} 个"
            )
        if len(figures) > TABLE3_FIGURES:
            raise ValueError(
                f"表三「{clip(label)}」行有 {len(figures)} 个数，多于 {TABLE3_FIGURES} 列"
            )
        row = _table3_row(label, group)
        return [(("table3", row, c), f) for c, f in zip(COLUMNS, figures, strict=True)]
    if table == "table4":
        if not label and len(figures) == TABLE4_FIGURES:
            return [
                (("table4", g, r), figures[gi * len(TABLE4_RESULTS) + ri])
                for gi, g in enumerate(TABLE4_GROUPS)
                for ri, r in enumerate(TABLE4_RESULTS)
            ]
        if len(figures) != len(TABLE4_RESULTS):
            raise ValueError(
                f"表四{f'「{clip(label)}」' if label else ''}行应有 {TABLE4_FIGURES} 个数"
                f"（行政复议、未经复议直接起诉、复议后起诉各 {len(TABLE4_RESULTS)} 个），"
                f"或每组一行 {len(TABLE4_RESULTS)} 个，这一行有 {len(figures)} 个"
            )
        t, row, _c = resolve_cell("表四", label, TABLE4_RESULTS[0])
        return [(("table4", row, r), f) for r, f in zip(TABLE4_RESULTS, figures, strict=True)]
    row = _table2_row(label)
    cols = next(cs for r, cs in TABLE2 if r == row)
    if len(figures) != len(cols):
        raise ValueError(
            f"表二「{row}」行应有 {len(cols)} 个数（{'、'.join(cols)}），这一行有 {len(figures)} 个"
        )
    return [(("table2", row, c), f) for c, f in zip(cols, figures, strict=True)]


def _table2_row(label: str) -> str:
    """The stored row of a printed 表二 label (its columns differ by row: try each kind)."""
    for col in dict.fromkeys(cs[0] for _r, cs in TABLE2):
        try:
            return resolve_cell("表二", label, col)[1]
        except ValueError as exc:
            if "这一行" in str(exc):
                raise  # the row itself is unknown: the message names the closest
    raise ValueError(f"表二没有「{clip(label)}」这一行")


def _table3_row(label: str, group: str) -> str:
    """The stored row of a printed 表三 label; a bare sub-row ("2.重复申请") is tried under
    the group carried from above first."""
    if SUBROW.match(label) and group and not GROUP.search(label):
        try:
            return resolve_cell("表三", f"{group} {label}", COLUMNS[0])[1]
        except ValueError:
            pass
    return resolve_cell("表三", label, COLUMNS[0])[1]


def import_grid(
    *, session: Session, unit: Unit, year: int, text: str, table: str | None, where: str
) -> list[GridCell]:
    """Write the pasted tables' cells for ``unit`` and ``year``: all, or none when any line
    is wrong. The caller commits."""
    cells = parse_grid(text, table=table, where=where)
    for c in cells:
        set_figure(
            session=session,
            unit=unit,
            year=year,
            table=c.table,
            row=c.row,
            col_=c.col,
            value=c.value,
        )
    return cells
