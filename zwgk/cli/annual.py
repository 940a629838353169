"""``zwgk annual``: the annual report's figures entered by hand (表二、表三、表四)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from zwgk.cli.common import DistrictOption, audit, open_db
from zwgk.errors import UserError

if TYPE_CHECKING:
    from zwgk.reports.annual import AnnualReport

app = typer.Typer(help="年报数据（表二、表三、表四手工填报）", no_args_is_help=True)


@app.command("import")
def annual_import(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="CSV：unit,year,table,row,column,value；--paste 时为粘贴的表格（省略或 - 为标准输入）"
        ),
    ] = None,
    district: DistrictOption = None,
    paste: Annotated[
        bool,
        typer.Option(
            "--paste",
            help="从年报或 Excel 复制的表格（制表符分隔，行名在前、数字按表格列序），须给出 --unit 和 --year",
        ),
    ] = False,
    unit: Annotated[str | None, typer.Option("--unit", help="单位（--paste）")] = None,
    year: Annotated[int | None, typer.Option("--year", help="年度（--paste）")] = None,
    table: Annotated[
        str | None,
        typer.Option("--table", help="表二、表三 或 表四（--paste，粘贴内容不含表格标题时）"),
    ] = None,
) -> None:
    """导入年报表格的手工数据（表二、表四，或表三的更正数）：CSV，或 --paste 粘贴的表格。"""
    if paste:
        _import_paste(file, district, unit, year, table)
        return
    if file is None:
        raise UserError(
            "请给出 CSV 文件（unit,year,table,row,column,value），或用 --paste 导入粘贴的表格"
        )
    if unit or year or table:
        raise UserError("--unit、--year、--table 只用于 --paste（CSV 的每行自带单位和年度）")
    from zwgk.intake.figures import import_figures

    with open_db() as session:
        n = import_figures(session=session, path=file, district=district)
        audit(
            session,
            "import-figures",
            file,
            f"导入年报表格数据「{file.name}」：{n} 个。",
            district=district,
            after={"数据": n},
        )
    typer.echo(f"已从「{file.name}」导入年报表格数据 {n} 项。")


def _import_paste(
    file: Path | None, district: str | None, unit: str | None, year: int | None, table: str | None
) -> None:
    """Tables copied from a published report and pasted as tab-separated text."""
    import sys

    from models.directory import find_unit
    from zwgk.intake.figures_grid import import_grid
    from zwgk.intake.tabular import FIRST_YEAR, LAST_YEAR, read_text

    if not unit or year is None:
        raise UserError(
            "--paste 须给出 --unit（单位）和 --year（年度），如 --unit 区政府办公室 --year 2024"
        )
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise UserError(f"--year {year} 超出范围（应在 {FIRST_YEAR}–{LAST_YEAR} 年之间）")
    if file is None or str(file) == "-":
        text, where, source = sys.stdin.read(), "粘贴的表格", Path("-")
    else:
        text, where, source = read_text(file), f"文件 {file} ", file
    with open_db() as session:
        u = find_unit(session=session, name=unit, district=district)
        cells = import_grid(session=session, unit=u, year=year, text=text, table=table, where=where)
        tables = "、".join(
            dict.fromkeys(
                {"table2": "表二", "table3": "表三", "table4": "表四"}[c.table] for c in cells
            )
        )
        audit(
            session,
            "import-figures",
            source,
            f"导入{u.name} {year} 年年报表格（粘贴，{tables}）：{len(cells)} 个。",
            district=u.district,
            after={"数据": len(cells)},
        )
    typer.echo(f"已导入 {u.name} {year} 年{tables}的 {len(cells)} 个数据。")


@app.command("set")
def annual_set(
    unit: Annotated[str, typer.Option("--unit")],
    year: Annotated[int, typer.Option("--year")],
    table: Annotated[str, typer.Argument(help="表二、表三 或 表四（也可写 二/三/四、table2/3/4）")],
    row: Annotated[
        str, typer.Argument(help="行名，按年报表格原样，如「（三）不予公开 1.属于国家秘密」")
    ],
    column: Annotated[str, typer.Argument(help="列名，如 本年制发件数、自然人、结果纠正")],
    value: Annotated[str, typer.Argument(help="数值（非负数）")],
    district: DistrictOption = None,
) -> None:
    """填写年报表格中的一个数。"""
    from models.annual import cell_label
    from models.directory import find_unit
    from zwgk.intake.figures import set_figure

    with open_db() as session:
        u = find_unit(session=session, name=unit, district=district)
        cell = set_figure(
            session=session, unit=u, year=year, table=table, row=row, col_=column, value=value
        )
    typer.echo(f"已填写 {u.name} {year} 年{cell_label(*cell)} = {value.strip()}。")


@app.command("check")
def annual_check(
    year: Annotated[int, typer.Option("--year", help="报告年度")],
    unit: Annotated[str | None, typer.Option("--unit", help="单位")] = None,
    district: Annotated[str | None, typer.Option("--district", help="区（汇总各单位）")] = None,
    docx: Annotated[
        Path | None,
        typer.Option("--docx", help="改好的年报草稿（.docx），核对其中的数字"),
    ] = None,
) -> None:
    """校验年报表三、表四（勾稽关系、上年结转）；给出 --docx 时再核对草稿总体情况中的数字。"""
    from models.directory import find_unit, resolve_district
    from zwgk.reports.annual import build_report

    if unit and district:
        raise UserError("--unit 和 --district 只能选一个")
    paragraphs = None
    if docx is not None:
        from zwgk.intake.draft import read_docx_paragraphs

        paragraphs = read_docx_paragraphs(docx)
    with open_db() as session:
        if unit:
            u = find_unit(session=session, name=unit, district=district)
            report = build_report(session=session, year=year, unit=u)
        else:
            d = resolve_district(session=session, district=district, default=None)
            report = build_report(session=session, year=year, district=d)
    if not report.has_data:
        raise UserError(
            f"{report.scope} {year} 年没有年报数据（依申请公开登记或手工填报的表格），无法校验"
        )
    failed = False
    if report.previous3 is None:
        typer.echo(f"注意：没有 {year - 1} 年的表三数据，上年结转未与上一年度结转下年度核对。")
    if report.errors:
        failed = True
        typer.echo(f"{report.scope} {year} 年年报表格校验发现 {len(report.errors)} 处问题：")
        for e in report.errors:
            typer.echo(f"- {e}")
    else:
        typer.echo(f"{report.scope} {year} 年年报表格校验通过（表三、表四勾稽关系，上年结转）。")
    if docx is not None and paragraphs is not None:  # read before the database was opened
        failed = _check_prose(docx, paragraphs, report) or failed
    if failed:
        raise typer.Exit(1)


def _check_prose(docx: Path, paragraphs: list[str], report: AnnualReport) -> bool:
    """Print the prose check of the draft; True when a number disagrees with the tables."""
    from zwgk.reports.annual_check_prose import check_prose, extract_claims

    claims = extract_claims(paragraphs, report.year)
    result = check_prose(claims, report)
    for note in result.notes:
        typer.echo(f"注意：{note}。")
    if not claims:
        typer.echo(
            f"注意：{docx.name} 的总体情况中没有找到可与表格核对的数字"
            "（如「共收到政府信息公开申请N件」「结转下年度继续办理N件」）。"
        )
        return False
    if result.problems:
        typer.echo(f"{docx.name} 正文与表格不一致 {len(result.problems)} 处：")
        for p in result.problems:
            typer.echo(f"- {p}")
        return True
    if result.checked:
        typer.echo(f"{docx.name} 总体情况中的 {result.checked} 个数字与表格一致。")
    return False
