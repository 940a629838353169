"""Reading the files administrators give us: CSV as Excel writes it (UTF-8, BOM, GB18030)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from zwgk.errors import UserError


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
    path: Path, required: tuple[str, ...], optional: tuple[str, ...] = ()
) -> list[tuple[int, dict[str, str]]]:
    """Rows of a CSV as (row number as Excel shows it, {column: stripped text}).

    The header must contain every ``required`` column (any order); blank lines are skipped.
    """
    text = read_text(path)
    sample = text[:4096]
    delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise UserError(f"文件 {path} 是空的：第 1 行应为表头 {','.join(required)}") from None
    except csv.Error as exc:
        raise UserError(f"文件 {path} 第 1 行：CSV 格式错误（{exc}）") from None
    names = [h.strip().lstrip("\ufeff").lower() for h in header]
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
            rows.append((rowno, row))
    except csv.Error as exc:
        raise UserError(f"文件 {path} 第 {reader.line_num} 行：CSV 格式错误（{exc}）") from None
    return rows


def split_list(value: str) -> list[str]:
    """Split ``a|b|c`` (also full-width ｜) into stripped, non-empty parts."""
    return [p.strip() for p in value.replace("｜", "|").split("|") if p.strip()]
