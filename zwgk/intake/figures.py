"""Annual-report figures typed in by hand (table 二, 四, and any cell of 三 that overrides the
register): one at a time (``zwgk annual set``) or from a CSV, all or nothing.

Tables, rows and columns may be named as printed in the national format, with or without
their numbering (表三 / 三 / table3; "（三）不予公开 1.属于国家秘密", "四、结转下年度继续办理"),
or by the internal keys (``models.annual.resolve_cell``)."""

from __future__ import annotations

import math
import re
from pathlib import Path

from sqlmodel import Session, select

from models.annual import AnnualFigure, cell_label, resolve_cell
from models.directory import find_unit
from models.unit import Unit
from zwgk.errors import UserError, clip, refused
from zwgk.intake.tabular import FIRST_YEAR, LAST_YEAR, read_csv_rows


def parse_value(text: str, where: str) -> float:
    """A figure as typed ("1,026", "31276.29"); ValueError naming ``where`` (the cell)."""
    try:
        value = float(text.strip().replace(",", "").replace("，", ""))
    except ValueError:
        raise ValueError(f"{where}：「{clip(text)}」不是数字") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{where}：「{clip(text)}」不能为负数") from None
    if value > MAX_FIGURE:
        raise ValueError(f"{where}：「{clip(text)}」过大，请核对") from None
    return value


def set_figure(
    *,
    session: Session,
    unit: Unit,
    year: int,
    table: str,
    row: str,
    col_: str,
    value: float | str,
) -> tuple[str, str, str]:
    """Write one cell, named as printed or by internal key; returns the stored (table, row,
    col). A bad label or value raises UserError and writes nothing."""
    try:
        table, row, col_ = resolve_cell(table, row, col_)
        if isinstance(value, str):
            value = parse_value(value, cell_label(table, row, col_))
    except ValueError as exc:
        raise UserError(str(exc)) from None
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
    return table, row, col_


FIGURE_COLUMNS = ("unit", "year", "table", "row", "column", "value")
# No count or amount (万元) in a district's annual report comes near this; larger is a typo.
MAX_FIGURE = 1e12


def import_figures(*, session: Session, path: Path, district: str | None) -> int:
    """Hand figures from a CSV (unit,year,table,row,column,value); all or nothing. Lines
    starting with "#" above the header are notes (the report the figures were copied from)."""
    rows = read_csv_rows(path, FIGURE_COLUMNS, comments=True)
    errors: list[str] = []
    clean = []
    seen: dict[tuple[object, ...], int] = {}
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
        try:
            cell = resolve_cell(r["table"], r["row"], r["column"])
        except ValueError as exc:
            errors.append(f"{where}，字段「table」/「row」/「column」：{exc}")
            continue
        try:
            value = parse_value(r["value"], cell_label(*cell))
        except ValueError as exc:
            errors.append(f"{where}，字段「value」：{exc}")
            continue
        if (unit.id, year, *cell) in seen:
            first = seen[(unit.id, year, *cell)]
            errors.append(f"{where}：{unit.name} {year} 年{cell_label(*cell)}与第 {first} 行重复")
            continue
        seen[(unit.id, year, *cell)] = rowno
        clean.append((unit, year, *cell, value))
    if not rows:
        errors.append(f"文件 {path}：表头之后没有任何数据")
    if errors:
        raise refused("年报数据", errors)
    for unit, year, table, row, col_, value in clean:
        set_figure(
            session=session, unit=unit, year=year, table=table, row=row, col_=col_, value=value
        )
    return len(clean)
