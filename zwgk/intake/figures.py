"""Annual-report figures typed in by hand (table 二, 四, and any cell of 三 that overrides the
register): one at a time (``zwgk annual set``) or from a CSV, all or nothing."""

from __future__ import annotations

import math
import re
from pathlib import Path

from sqlmodel import Session, select

from models.annual import (
    COLUMNS,
    TABLE2,
    TABLE3_ROWS,
    TABLE4_GROUPS,
    TABLE4_RESULTS,
    AnnualFigure,
)
from models.directory import find_unit
from models.unit import Unit
from zwgk.errors import UserError, clip, refused
from zwgk.intake.tabular import FIRST_YEAR, LAST_YEAR, read_csv_rows


def set_figure(
    *, session: Session, unit: Unit, year: int, table: str, row: str, col_: str, value: float
) -> None:
    valid = valid_cells()
    if (table, row, col_) not in valid:
        raise UserError(
            f"没有这个单元格：{table}「{row}」行「{col_}」列。可用的表：table2、table3、table4；"
            "行列名称与年报表格一致，如 table3 本年新收 自然人"
        )
    f = session.exec(
        select(AnnualFigure).where(
            AnnualFigure.unit_id == unit.id,
            AnnualFigure.year == year,
            AnnualFigure.table == table,
            AnnualFigure.row == row,
            AnnualFigure.col == col_,
        )
    ).first()
    if f is None:
        f = AnnualFigure(unit_id=unit.id, year=year, table=table, row=row, col=col_, value=value)  # type: ignore[arg-type]
    f.value = value
    session.add(f)


def valid_cells() -> set[tuple[str, str, str]]:
    cells = {("table2", r, c) for r, cols in TABLE2 for c in cols}
    cells |= {("table3", r, c) for r in TABLE3_ROWS for c in COLUMNS}
    cells |= {("table4", g, r) for g in TABLE4_GROUPS for r in TABLE4_RESULTS}
    return cells


FIGURE_COLUMNS = ("unit", "year", "table", "row", "column", "value")
# No count or amount (万元) in a district's annual report comes near this; larger is a typo.
MAX_FIGURE = 1e12


def import_figures(*, session: Session, path: Path, district: str | None) -> int:
    """Hand figures from a CSV (unit,year,table,row,column,value); all or nothing."""
    rows = read_csv_rows(path, FIGURE_COLUMNS)
    valid = valid_cells()
    errors: list[str] = []
    clean = []
    for rowno, r in rows:
        where = f"文件 {path} 第 {rowno} 行"
        try:
            unit = find_unit(session=session, name=r["unit"], district=district)
        except UserError as exc:
            errors.append(f"{where}，字段「unit」：{exc.message}")
            continue
        if not re.fullmatch(r"[0-9]{4}", r["year"]):
            errors.append(f"{where}，字段「year」：「{clip(r['year'])}」不是年份（应为四位数字）")
            continue
        year = int(r["year"])
        if not FIRST_YEAR <= year <= LAST_YEAR:
            errors.append(
                f"{where}，字段「year」：{year} 年超出范围（应在 {FIRST_YEAR}–{LAST_YEAR} 年之间）"
            )
            continue
        if (r["table"], r["row"], r["column"]) not in valid:
            errors.append(
                f"{where}，字段「row」/「column」：{clip(r['table'])}「{clip(r['row'])}」行"
                f"「{clip(r['column'])}」列不存在"
            )
            continue
        try:
            value = float(r["value"].replace(",", ""))
            if not (math.isfinite(value) and 0 <= value <= MAX_FIGURE):
                raise ValueError
        except ValueError:
            errors.append(f"{where}，字段「value」：「{clip(r['value'])}」不是合理的非负数")
            continue
        clean.append((unit, year, r["table"], r["row"], r["column"], value))
    if not rows:
        errors.append(f"文件 {path}：表头之后没有任何数据")
    if errors:
        raise refused("年报数据", errors)
    for unit, year, table, row, col_, value in clean:
        set_figure(
            session=session, unit=unit, year=year, table=table, row=row, col_=col_, value=value
        )
    return len(clean)
