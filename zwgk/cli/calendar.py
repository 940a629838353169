"""``zwgk calendar``: the working-day calendar and the administrator's holiday arrangements."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zwgk.cli.common import audit, echo_json, open_db, parse_day, warn

app = typer.Typer(help="工作日历（节假日、调休）", no_args_is_help=True)
holidays_app = typer.Typer(help="管理员维护的节假日安排", no_args_is_help=True)
app.add_typer(holidays_app, name="holidays")


@app.command("add-workdays")
def calendar_add_workdays(
    start: Annotated[str, typer.Argument(metavar="DATE", help="起算日期 YYYY-MM-DD")],
    n: Annotated[int, typer.Argument(metavar="N", help="工作日数（可为负数）")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """计算 DATE 之后第 N 个工作日。"""
    from notifications.render import cn_date
    from workflows.workcal import load_calendar

    day = parse_day(start)
    with open_db() as session:
        result = load_calendar(session).add_workdays(day, n)
    if as_json:
        echo_json({"date": result.date.isoformat(), "provisional": result.provisional})
    else:
        typer.echo(cn_date(result.date) + ("（暂定）" if result.provisional else ""))
    if result.provisional:
        warn(
            f"{result.date.year} 年的法定节假日安排尚未收录，结果按法定假日估算，为暂定日期；"
            "国务院通知发布后请用 zwgk calendar holidays import 导入。"
        )


@holidays_app.command("import")
def holidays_import(
    file: Annotated[Path, typer.Argument(help="CSV：date,kind,name（kind 为 holiday 或 workday）")],
) -> None:
    """导入节假日/调休安排（优先于内置日历）。"""
    from zwgk.intake.holidays import import_overrides

    with open_db() as session:
        n = import_overrides(session=session, path=file)
        audit(
            session,
            "import-holidays",
            file,
            f"导入节假日安排「{file.name}」：{n} 条。",
            after={"条数": n},
        )
    typer.echo(f"已导入 {n} 条节假日安排。")


@holidays_app.command("list")
def holidays_list() -> None:
    """列出管理员导入的节假日安排。"""
    from sqlmodel import col, select

    from models.calendar import HolidayOverride

    with open_db() as session:
        rows = list(session.exec(select(HolidayOverride).order_by(col(HolidayOverride.day))))
    from zwgk.cli.table import print_table

    print_table(
        ["日期", "安排", "名称"],
        [(r.day, "放假" if r.kind == "holiday" else "上班", r.name) for r in rows],
    )
    typer.echo(f"共 {len(rows)} 条。")
