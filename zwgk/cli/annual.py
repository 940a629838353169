"""``zwgk annual``: the annual report's figures entered by hand (表二、表三、表四)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zwgk.cli.common import open_db
from zwgk.errors import UserError

app = typer.Typer(help="年报数据（表二、表三、表四手工填报）", no_args_is_help=True)


@app.command("import")
def annual_import(
    file: Annotated[Path, typer.Argument(help="CSV：unit,year,table,row,column,value")],
    district: Annotated[str | None, typer.Option("--district")] = None,
) -> None:
    """导入年报表格的手工数据（表二、表四，或表三的更正数）。"""
    from zwgk.intake.figures import import_figures

    with open_db() as session:
        n = import_figures(session=session, path=file, district=district)
    typer.echo(f"已导入 {n} 个数据。")


@app.command("set")
def annual_set(
    unit: Annotated[str, typer.Option("--unit")],
    year: Annotated[int, typer.Option("--year")],
    table: Annotated[str, typer.Argument(help="table2、table3 或 table4")],
    row: Annotated[str, typer.Argument(help="行名，如 行政规范性文件、本年新收、行政复议")],
    column: Annotated[str, typer.Argument(help="列名，如 本年制发件数、自然人、结果纠正")],
    value: Annotated[float, typer.Argument()],
    district: Annotated[str | None, typer.Option("--district")] = None,
) -> None:
    """填写年报表格中的一个数。"""
    from models.directory import find_unit
    from zwgk.intake.figures import set_figure

    if value < 0:
        raise UserError("数值不能为负数")
    with open_db() as session:
        u = find_unit(session=session, name=unit, district=district)
        set_figure(
            session=session, unit=u, year=year, table=table, row=row, col_=column, value=value
        )
    typer.echo(f"已填写 {u.name} {year} 年 {table}「{row}」「{column}」= {value:g}。")
