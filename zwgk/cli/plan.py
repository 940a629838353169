"""``zwgk plan``: the year's work plan (工作要点任务分解表): import, and confirm or move a task's due date."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zwgk.cli.common import audit, echo_json, open_db, parse_day, warn
from zwgk.errors import UserError

app = typer.Typer(help="年度政务公开工作要点（任务分解表）", no_args_is_help=True)


@app.command("import")
def plan_import(
    file: Annotated[Path, typer.Argument(help="任务分解表：.xlsx、.docx、.csv 或 .tsv")],
    district: Annotated[str, typer.Option("--district", help="区名，如 长宁区")],
    year: Annotated[int, typer.Option("--year", help="工作要点年度")],
    issued: Annotated[str, typer.Option("--issued", help="印发日期 YYYY-MM-DD")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只解析并显示，不写入")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
    lenient: Annotated[
        bool, typer.Option("--lenient", help="无法识别的时间节点留空并提示，而不是报错")
    ] = False,
    create_unknown: Annotated[
        bool, typer.Option("--create-unknown", help="名录中没有的单位自动新增")
    ] = False,
    table: Annotated[
        int | None, typer.Option("--table", help="Word 文件中第几个表格（默认自动查找）")
    ] = None,
    default_deadline: Annotated[
        str | None,
        typer.Option(
            "--default-deadline",
            metavar="PHRASE",
            help="表格没有完成时间列（或单元格为空）时各行的时间节点，如 全年、12月底前",
        ),
    ] = None,
) -> None:
    """导入年度工作要点任务分解表，逐项解析完成时间和责任单位。"""
    from workflows.workcal import load_calendar
    from zwgk.intake.plan.importer import import_plan

    issued_day = parse_day(issued, "--issued")
    from zwgk.intake.tabular import FIRST_YEAR, LAST_YEAR

    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise UserError(f"--year {year} 无效（应在 {FIRST_YEAR}–{LAST_YEAR} 年之间）")
    with open_db() as session:
        report = import_plan(
            session=session,
            path=file,
            district=district,
            year=year,
            issued=issued_day,
            cal=load_calendar(session),
            dry_run=dry_run,
            lenient=lenient,
            create_unknown=create_unknown,
            table=table,
            default_deadline=default_deadline,
        )
        if dry_run:
            session.rollback()
        else:
            counts = {
                "任务": len(report.tasks),
                "新增": report.created,
                "更新": report.updated,
                "未变": report.unchanged,
                "撤销": report.retired,
            }
            detail = "，".join(f"{k} {v}" for k, v in counts.items())
            audit(
                session,
                "import-plan",
                file,
                f"导入{district} {year} 年工作要点「{file.name}」：{detail}。",
                district=district,
                after=counts,
            )
    if as_json:
        echo_json([t.as_json() for t in report.tasks])
    else:
        verb = "[演练] 将导入" if dry_run else "已导入"
        typer.echo(
            f"{verb}{district} {year} 年工作要点：{len(report.tasks)} 项任务（新增 {report.created}，"
            f"更新 {report.updated}，未变 {report.unchanged}，撤销 {report.retired}）。"
            + ("未写入任何数据。" if dry_run else "")
        )
        if report.defaulted:
            typer.echo(
                f"其中 {report.defaulted} 项任务未写明完成时间，按 --default-deadline「{default_deadline}」计。"
            )
        if not dry_run:
            typer.echo(f"下一步：zwgk run work-plan --period {year} --district {district}")
    for w in report.warnings:
        warn(w)


@app.command("move-due")
def plan_move_due(
    task: Annotated[
        str,
        typer.Argument(
            metavar="TASK",
            help="任务：序号（如 12）、序号/行（如 24/2）或 task-编号（见 zwgk status）",
        ),
    ],
    new_due: Annotated[str, typer.Argument(metavar="DATE", help="新的截止日期 YYYY-MM-DD")],
    district: Annotated[str | None, typer.Option("--district", help="区名，如 长宁区")] = None,
    year: Annotated[int | None, typer.Option("--year", help="工作要点年度（默认最近一年）")] = None,
    by: Annotated[str, typer.Option("--by", help="操作人")] = "政务公开办",
    reason: Annotated[str, typer.Option("--reason", help="调整理由")] = "",
) -> None:
    """确认或调整某项任务的截止日期（如印发时已逾期的任务），其待办事项随之调整。"""
    from models.directory import resolve_district
    from workflows.workcal import load_calendar
    from zwgk.config import get_settings
    from zwgk.intake.plan.deadlines import cn_date
    from zwgk.intake.plan.moves import move_due
    from zwgk.intake.tabular import FIRST_YEAR, LAST_YEAR

    day = parse_day(new_due, "截止日期")
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise UserError(f"截止日期「{new_due}」超出范围（应在 {FIRST_YEAR}–{LAST_YEAR} 年之间）")
    with open_db() as session:
        where = resolve_district(
            session=session, district=district, default=get_settings().default_district
        )
        result = move_due(
            session=session,
            district=where,
            year=year,
            ref=task,
            new_due=day,
            cal=load_calendar(session),
            by=by,
            reason=reason,
        )
        t, plan = result.task, result.plan
        head = f"{where}{plan.year}年工作要点第{t.seq}项「{t.name}」（task-{t.id}）"
        if result.confirmed:
            typer.echo(f"已确认{head}的截止日期为{cn_date(day)}。")
        else:
            before = cn_date(result.old_due) if result.old_due else "（未填）"
            typer.echo(f"已将{head}的截止日期由{before}调整为{cn_date(day)}。")
        typer.echo(
            f"待办事项 {result.moved} 条随之调整"
            + (f"，已完成或免办的 {result.kept} 条不变" if result.kept else "")
            + "；以后重新导入时，只要该项时间节点未改，仍按此日期。"
        )
        if day < plan.issued:
            warn(f"{cn_date(day)}早于印发日期（{cn_date(plan.issued)}），该任务仍为印发时已逾期。")
