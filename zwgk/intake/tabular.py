"""Reading the files administrators give us: CSV as Excel writes it (UTF-8, BOM, GB18030)."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path

from zwgk.errors import UserError, clip

# Years a date in an imported file may have: the working-day calendar counts from them (its
# estimates for years chinesecalendar does not cover need lunar dates, known up to 2099, and
# a reply deadline may run 40 working days on), and anything else is a typing error.
FIRST_YEAR, LAST_YEAR = 2000, 2098

DATE_RE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\S*)?$")


def parse_date(value: str) -> date | None:
    """YYYY-MM-DD (also with / or . as Excel may write it; a trailing time is ignored).

    Empty → None. Raises ValueError with the reason in Chinese, for the caller to prefix with
    the file, row and field: not a date, no such day (2026-02-30), or a year outside
    FIRST_YEAR–LAST_YEAR.
    """
    v = value.strip()
    if not v:
        return None
    m = DATE_RE.match(v)
    if not m:
        raise ValueError(f"「{clip(value)}」不是有效日期（应为 YYYY-MM-DD）")
    y, mo, d = (int(g) for g in m.groups())
    if not FIRST_YEAR <= y <= LAST_YEAR:
        raise ValueError(f"「{clip(value)}」的年份超出范围（应在 {FIRST_YEAR}–{LAST_YEAR} 年之间）")
    try:
        return date(y, mo, d)
    except ValueError:
        raise ValueError(f"「{clip(value)}」不是有效日期（没有这一天）") from None


def check_text(path: Path, rowno: int, field: str, value: str) -> str | None:
    """The problem with a cell no database can store (NUL), or None.

    A NUL character usually means a UTF-16 (Notepad "Unicode") or binary file.
    """
    if "\x00" in value:
        return (
            f"文件 {path} 第 {rowno} 行，字段「{clip(field)}」：含有空字符（\\x00）——"
            "文件可能是 UTF-16 编码或已损坏，请另存为 UTF-8 或 GB18030（Excel“CSV”格式）"
        )
    return None


def read_text(path: Path) -> str:
    """Decode a text file written by Excel or an editor: UTF-8 (with or without BOM) or GB18030."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"找不到文件 {path}") from None
    except OSError as exc:
        raise UserError(f"无法读取文件 {path}：{exc.strerror}") from None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UserError(f"文件 {path} 的编码无法识别：请另存为 UTF-8 或 GB18030（Excel“CSV”格式）")


def read_csv_rows(
    path: Path,
    required: tuple[str, ...],
    optional: tuple[str, ...] = (),
    *,
    comments: bool = False,
) -> list[tuple[int, dict[str, str]]]:
    """Rows of a CSV as (row number as Excel shows it, {column: stripped text}).

    The header must contain every ``required`` column (any order); blank lines are skipped.
    With ``comments``, lines starting with "#" above the header (where a file says where its
    figures were copied from) are skipped too; row numbers still count them.
    """
    text = read_text(path)
    sample = text[:4096]
    delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
        while comments and header and header[0].lstrip("\ufeff").startswith("#"):
            header = next(reader)
    except StopIteration:
        raise UserError(f"文件 {path} 是空的：第 1 行应为表头 {','.join(required)}") from None
    except csv.Error as exc:
        raise UserError(f"文件 {path} 第 1 行：CSV 格式错误（{exc}）") from None
    names = [h.strip().lstrip("\ufeff").lower() for h in header]
    if any("\x00" in h for h in header):
        raise UserError(
            f"文件 {path} 第 1 行（表头）含有空字符（\\x00）：文件可能是 UTF-16 编码或不是文本文件，"
            "请另存为 UTF-8 或 GB18030（Excel“CSV”格式）"
        )
    missing = [c for c in required if c not in names]
    if missing:
        raise UserError(
            f"文件 {path} 第 1 行（表头）：缺少列「{'、'.join(missing)}」；"
            f"表头应为 {','.join(required + optional)}"
        )
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for values in reader:
            rowno = reader.line_num
            if not any(v.strip() for v in values):
                continue
            row = {
                name: (values[i].strip() if i < len(values) else "")
                for i, name in enumerate(names)
                if name
            }
            for name, value in row.items():
                problem = check_text(path, rowno, name, value)
                if problem:
                    raise UserError(problem)
            rows.append((rowno, row))
    except csv.Error as exc:
        raise UserError(f"文件 {path} 第 {reader.line_num} 行：CSV 格式错误（{exc}）") from None
    return rows


def split_list(value: str) -> list[str]:
    """Split ``a|b|c`` (also full-width ｜) into stripped, non-empty parts."""
    return [p.strip() for p in value.replace("｜", "|").split("|") if p.strip()]
