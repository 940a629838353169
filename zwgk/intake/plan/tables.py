"""Read a plan's task table (任务分解表) from .xlsx, .docx, .csv or .tsv.

Columns are found by header text in any order, by meaning: 序号; 任务名称/工作重点/工作任务;
具体内容/任务内容/工作要求; 牵头单位 (its units lead); 责任单位/配合/责任单位 (the phrase decides);
配合单位 (its units cooperate); 完成时间/时间节点/时限要求.  A table with no 完成时间 column is
refused unless the caller supplies a default (``need_deadline=False``: the plan's
``--default-deadline``).  With no 序号 column the number is taken from the text ("3.建立…" is task
3, the "3." dropped), a row without one continuing the task above; a 一、/（一） heading in
the task-name column (merged down the first column) is the rows' section, not their name; a
table with no numbers at all is numbered in order.  A title row above the header is skipped;
merged cells (a task name, number or category spanning rows) apply to every row they
span — in CSV, where merges export as empty cells, an empty 序号/任务名称/类别 repeats the
row above. A row whose only text is a heading such as ``一、…`` or ``（一）…`` (Baoshan's
section rows, or a merged row spanning the whole table) sets the category of the rows
below it. Line breaks and stray spaces inside cells are kept for the parsers, which
normalise them.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from zwgk.errors import UserError
from zwgk.intake.tabular import read_text

# Column key → header words (matched after removing whitespace).
# (Order matters: a cell takes the first key whose word it equals or starts with.)
HEADERS: dict[str, tuple[str, ...]] = {
    "seq": ("序号", "编号"),
    "name": ("任务名称", "工作重点", "重点工作", "工作任务", "任务名", "主要任务"),
    "category": ("任务类别", "类别", "分类"),
    "content": (
        "具体内容",
        "任务内容",
        "工作内容",
        "主要内容",
        "具体任务",
        "工作要求",
        "工作措施",
        "具体措施",
    ),
    "lead": ("牵头单位", "牵头部门"),
    "units": ("责任单位", "责任部门", "承办单位", "主责单位", "配合/责任单位", "配合、责任单位"),
    "cooperating": ("配合单位", "配合部门", "协办单位"),
    "deadline": (
        "完成时间",
        "时间节点",
        "完成时限",
        "时限要求",
        "完成期限",
        "时间要求",
        "时间安排",
    ),
}
UNIT_KEYS = ("lead", "units", "cooperating")
LABELS = {
    "seq": "序号",
    "name": "任务名称/工作重点",
    "category": "任务类别",
    "content": "具体内容/任务内容",
    "lead": "牵头单位",
    "units": "责任单位",
    "cooperating": "配合单位",
    "deadline": "完成时间/时间节点",
}

SECTION_RE = re.compile(r"^\s*([一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[）)])")
WS_RE = re.compile(r"\s+")
# A task number at the start of its text: "3.建立…", "3、…", "3．…" (not "1.1", not "2021年").
TEXT_NUMBER_RE = re.compile(r"^\s*(\d{1,3})\s*[.．、](?!\d)\s*")


class NoDeadlineColumn(UserError):
    """A task table whose header has no 完成时间 column (and no default was given)."""


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
    lead: str = ""  # a separate 牵头单位 column
    cooperating: str = ""  # a separate 配合单位 column
    # column key -> the header as the table writes it ("配合/责任单位"), for messages
    headers: dict[str, str] = field(default_factory=dict)


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
    if ("name" in found or "content" in found) and any(k in found for k in UNIT_KEYS):
        return found
    return None


def _rows_from_grid(
    grid: list[list[str]], source: str, where_fmt: str, *, need_deadline: bool = True
) -> list[TaskRow]:
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
    headers = {k: squash(grid[header_at][j]) for k, j in columns.items()}
    if "deadline" not in columns and need_deadline:
        shown = "、".join(squash(c) for c in grid[header_at] if squash(c))
        raise NoDeadlineColumn(
            f"{source} {where_fmt.format(header_at + 1)}的表头（{shown}）中没有完成时间列"
            "（完成时间/时间节点/时限要求）。如各项任务按同一时间节点完成，请加上 "
            "--default-deadline 全年（或 --default-deadline 12月底前 等），用于每一行；"
            "任务内容中写明时间的（如“7月底前”），按内容中的时间计。也可在表格中补上完成时间列"
        )
    numbers_from_text = "seq" not in columns
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
            blank_task = not any(values.get(k) for k in ("seq", "deadline", *UNIT_KEYS))
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
        row_section = section
        if numbers_from_text:
            # A heading merged down the task-name column is the section, not the name.
            if SECTION_RE.match(values.get("name", "")):
                row_section, values["name"] = squash(values["name"]), ""
            for key in ("name", "content"):
                number = TEXT_NUMBER_RE.match(values.get(key, ""))
                if number:
                    values["seq"], values[key] = number.group(1), values[key][number.end() :]
                    break
        rows.append(
            TaskRow(
                where=where_fmt.format(i + 1),
                rowno=i + 1,
                section=row_section,
                seq=values.get("seq", ""),
                name=values.get("name", ""),
                category=values.get("category", ""),
                content=values.get("content", ""),
                units=values.get("units", ""),
                deadline=values.get("deadline", ""),
                lead=values.get("lead", ""),
                cooperating=values.get("cooperating", ""),
                headers=headers,
            )
        )
    if numbers_from_text:
        _number_rows(rows)
    return rows


def _number_rows(rows: list[TaskRow]) -> None:
    """Tables without 序号: a row with no number of its own continues the task above (its
    sub-row); a table with no numbers at all is numbered in order, a merged task name
    spanning rows counting once."""
    if any(r.seq for r in rows):
        last = ""
        for r in rows:
            last = r.seq = r.seq or last
        return
    n, previous = 0, None
    for r in rows:
        if not r.name or r.name != previous:
            n += 1
        previous = r.name
        r.seq = str(n)


def read_xlsx(path: Path, *, need_deadline: bool = True) -> list[TaskRow]:
    from openpyxl import load_workbook  # heavy; only for .xlsx tables

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
            return _rows_from_grid(
                grid,
                f"文件 {path}（工作表「{ws.title}」）",
                "第 {} 行",
                need_deadline=need_deadline,
            )
        except NoDeadlineColumn:
            raise
        except UserError:
            if ws is wb.worksheets[-1]:
                raise
    raise UserError(f"文件 {path} 中没有工作表")


def read_docx(path: Path, table: int | None = None, *, need_deadline: bool = True) -> list[TaskRow]:
    from docx import Document  # heavy (lxml); only for .docx tables

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
                grid,
                f"文件 {path}（第 {n} 个表格）",
                f"第 {n} 个表格第 {{}} 行",
                need_deadline=need_deadline,
            )
        except NoDeadlineColumn:
            raise
        except UserError as exc:
            last_error = exc
    if table is None:
        raise UserError(
            f"文件 {path} 的 {len(tables)} 个表格中没有一个带有任务分解表的表头（序号、任务名称、责任单位、完成时间）；可用 --table N 指定"
        )
    raise last_error  # type: ignore[misc]


def read_delimited(path: Path, *, need_deadline: bool = True) -> list[TaskRow]:
    text = read_text(path)
    sample = text[:4096]
    delimiter = (
        "\t" if path.suffix.lower() == ".tsv" or sample.count("\t") > sample.count(",") else ","
    )
    try:
        grid = [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
    except csv.Error as exc:
        raise UserError(f"文件 {path}：CSV 格式错误（{exc}）") from None
    return _rows_from_grid(grid, f"文件 {path}", "第 {} 行", need_deadline=need_deadline)


def read_table(
    path: Path, table: int | None = None, *, need_deadline: bool = True
) -> list[TaskRow]:
    """The task rows of ``path``, whatever its format.

    ``need_deadline``: refuse a table without a 完成时间 column (:class:`NoDeadlineColumn`);
    False when the caller has a default deadline for every row."""
    suffix = path.suffix.lower()
    if not path.exists():
        raise UserError(f"找不到文件 {path}")
    if suffix in (".xls", ".doc", ".et", ".wps"):
        modern = ".xlsx" if suffix in (".xls", ".et") else ".docx"
        raise UserError(
            f"文件 {path} 是旧版 {suffix} 格式：请在 Excel/Word/WPS 中“另存为” {modern} 后再导入"
        )
    if suffix == ".xlsx":
        return read_xlsx(path, need_deadline=need_deadline)
    if suffix == ".docx":
        return read_docx(path, table, need_deadline=need_deadline)
    if suffix in (".csv", ".tsv", ".txt"):
        return read_delimited(path, need_deadline=need_deadline)
    raise UserError(
        f"文件 {path} 的格式 {suffix or '（无扩展名）'} 不支持：请使用 .xlsx、.docx、.csv 或 .tsv"
    )
