"""Read a plan's task table (任务分解表) from .xlsx, .docx, .csv or .tsv.

Columns are found by header text in any order; a title row above the header is skipped;
merged cells (a task name, number or category spanning rows) apply to every row they
span — in CSV, where merges export as empty cells, an empty 序号/任务名称/类别 repeats the
row above. A row whose only text is a heading such as ``一、…`` or ``（一）…`` (Baoshan's
section rows, or a merged row spanning the whole table) sets the category of the rows
below it. Line breaks and stray spaces inside cells are kept for the parsers, which
normalise them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from zwgk.errors import UserError
from zwgk.tabular import read_text

# Column key → header words (matched after removing whitespace).
HEADERS: dict[str, tuple[str, ...]] = {
    "seq": ("序号", "编号"),
    "name": ("任务名称", "工作重点", "重点工作", "工作任务", "任务名", "主要任务"),
    "category": ("任务类别", "类别", "分类"),
    "content": ("具体内容", "任务内容", "工作内容", "主要内容", "具体任务"),
    "units": ("责任单位", "责任部门", "牵头单位", "承办单位"),
    "deadline": ("完成时间", "时间节点", "完成时限", "时间要求", "时间安排"),
}
REQUIRED = ("seq", "units", "deadline")
LABELS = {
    "seq": "序号",
    "name": "任务名称/工作重点",
    "category": "任务类别",
    "content": "具体内容/任务内容",
    "units": "责任单位",
    "deadline": "完成时间/时间节点",
}

SECTION_RE = re.compile(r"^\s*([一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[）)])")
WS_RE = re.compile(r"\s+")


@dataclass
class TaskRow:
    """One row of the task table with the cells it has (merged values filled in)."""

    where: str  # how to name the row in a message: "第 12 行" / "表格第 12 行"
    rowno: int
    seq: str = ""
    name: str = ""
    category: str = ""
    content: str = ""
    units: str = ""
    deadline: str = ""
    section: str = ""  # the nearest heading row above (一、… / （一）…)
    extra: dict[str, str] = field(default_factory=dict)


def squash(text: str) -> str:
    return WS_RE.sub("", text or "")


def _match_header(cells: list[str]) -> dict[str, int] | None:
    found: dict[str, int] = {}
    for i, cell in enumerate(cells):
        c = squash(cell)
        if not c or len(c) > 12:
            continue
        for key, words in HEADERS.items():
            if key not in found and any(c == w or c.startswith(w) for w in words):
                found[key] = i
                break
    if all(k in found for k in REQUIRED) and ("name" in found or "content" in found):
        return found
    return None


def _rows_from_grid(grid: list[list[str]], source: str, where_fmt: str) -> list[TaskRow]:
    header_at = None
    columns: dict[str, int] = {}
    for i, cells in enumerate(grid[:15]):
        m = _match_header(cells)
        if m:
            header_at, columns = i, m
            break
    if header_at is None:
        wanted = "、".join(LABELS[k] for k in ("seq", "name", "content", "units", "deadline"))
        raise UserError(f"{source}：前 15 行中找不到表头（应包含 {wanted} 等列）")
    rows: list[TaskRow] = []
    carry = {"seq": "", "name": "", "category": ""}
    section = ""
    for i, cells in enumerate(grid[header_at + 1 :], start=header_at + 1):
        values = {k: (cells[j] if j < len(cells) else "").strip() for k, j in columns.items()}
        for k, v in values.items():
            if "\x00" in v:  # no database stores it; a UTF-16 or damaged file
                raise UserError(
                    f"{source} {where_fmt.format(i + 1)}，字段「{LABELS[k]}」：含有空字符（\\x00）——"
                    "文件可能是 UTF-16 编码或已损坏，请另存为 UTF-8 或 GB18030"
                )
        nonempty = {squash(c) for c in cells if squash(c)}
        if not nonempty:
            continue
        # A repeated header row (tables that continue over pages).
        if _match_header(cells):
            continue
        # A heading row: one distinct text (a merged row) that looks like 一、/（一）.
        # (A merge across the whole row repeats its text in every cell.)
        if len(nonempty) == 1:
            text = next(iter(nonempty))
            blank_task = (
                not values.get("units") and not values.get("deadline") and not values.get("seq")
            )
            if SECTION_RE.match(text) or blank_task:
                section = text
                carry = {"seq": "", "name": "", "category": ""}
                continue
        for key in carry:
            if key in columns:
                if values.get(key):
                    carry[key] = values[key]
                else:
                    values[key] = carry[key]
        rows.append(
            TaskRow(
                where=where_fmt.format(i + 1),
                rowno=i + 1,
                section=section,
                seq=values.get("seq", ""),
                name=values.get("name", ""),
                category=values.get("category", ""),
                content=values.get("content", ""),
                units=values.get("units", ""),
                deadline=values.get("deadline", ""),
            )
        )
    return rows


def read_xlsx(path: Path) -> list[TaskRow]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook gets one message
        raise UserError(f"无法读取 Excel 文件 {path}：{exc}") from None
    for ws in wb.worksheets:
        grid = [
            ["" if v is None else str(v) for v in row] for row in ws.iter_rows(values_only=True)
        ]
        for rng in ws.merged_cells.ranges:
            top = ws.cell(rng.min_row, rng.min_col).value
            for r in range(rng.min_row, rng.max_row + 1):
                for c in range(rng.min_col, rng.max_col + 1):
                    if r - 1 < len(grid) and c - 1 < len(grid[r - 1]):
                        # A merge spanning the whole row is a heading; keep it once.
                        grid[r - 1][c - 1] = "" if top is None else str(top)
        try:
            return _rows_from_grid(grid, f"文件 {path}（工作表「{ws.title}」）", "第 {} 行")
        except UserError:
            if ws is wb.worksheets[-1]:
                raise
    raise UserError(f"文件 {path} 中没有工作表")


def read_docx(path: Path, table: int | None = None) -> list[TaskRow]:
    from docx import Document

    try:
        doc = Document(str(path))
    except Exception as exc:  # noqa: BLE001
        raise UserError(f"无法读取 Word 文件 {path}：{exc}") from None
    tables = doc.tables
    if not tables:
        raise UserError(f"文件 {path} 中没有表格")
    if table is not None:
        if not 1 <= table <= len(tables):
            raise UserError(f"文件 {path} 只有 {len(tables)} 个表格，没有第 {table} 个")
        candidates = [(table, tables[table - 1])]
    else:
        candidates = list(enumerate(tables, start=1))
    last_error: UserError | None = None
    for n, t in candidates:
        grid = [[cell.text for cell in row.cells] for row in t.rows]
        try:
            return _rows_from_grid(
                grid, f"文件 {path}（第 {n} 个表格）", f"第 {n} 个表格第 {{}} 行"
            )
        except UserError as exc:
            last_error = exc
    if table is None:
        raise UserError(
            f"文件 {path} 的 {len(tables)} 个表格中没有一个带有任务分解表的表头（序号、任务名称、责任单位、完成时间）；可用 --table N 指定"
        )
    raise last_error  # type: ignore[misc]


def read_delimited(path: Path) -> list[TaskRow]:
    import csv
    import io

    text = read_text(path)
    sample = text[:4096]
    delimiter = (
        "\t" if path.suffix.lower() == ".tsv" or sample.count("\t") > sample.count(",") else ","
    )
    try:
        grid = [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
    except csv.Error as exc:
        raise UserError(f"文件 {path}：CSV 格式错误（{exc}）") from None
    return _rows_from_grid(grid, f"文件 {path}", "第 {} 行")


def read_table(path: Path, table: int | None = None) -> list[TaskRow]:
    """The task rows of ``path``, whatever its format."""
    suffix = path.suffix.lower()
    if not path.exists():
        raise UserError(f"找不到文件 {path}")
    if suffix in (".xls", ".doc", ".et", ".wps"):
        modern = ".xlsx" if suffix in (".xls", ".et") else ".docx"
        raise UserError(
            f"文件 {path} 是旧版 {suffix} 格式：请在 Excel/Word/WPS 中“另存为” {modern} 后再导入"
        )
    if suffix == ".xlsx":
        return read_xlsx(path)
    if suffix == ".docx":
        return read_docx(path, table)
    if suffix in (".csv", ".tsv", ".txt"):
        return read_delimited(path)
    raise UserError(
        f"文件 {path} 的格式 {suffix or '（无扩展名）'} 不支持：请使用 .xlsx、.docx、.csv 或 .tsv"
    )
