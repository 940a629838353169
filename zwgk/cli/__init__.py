"""The ``zwgk`` command (管理命令). Messages to users are Chinese; logs are English."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from zwgk.cli import audit as audit_cli
from zwgk.cli import users as users_cli
from zwgk.errors import UserError

app = typer.Typer(
    help="政务公开事项管理：单位名录、工作日历、事项清单、通知与完成登记。",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
units_app = typer.Typer(help="责任单位名录", no_args_is_help=True)
calendar_app = typer.Typer(help="工作日历（节假日、调休）", no_args_is_help=True)
holidays_app = typer.Typer(help="管理员维护的节假日安排", no_args_is_help=True)
outbox_app = typer.Typer(help="发件箱", no_args_is_help=True)
mail_app = typer.Typer(help="本地邮件捕获", no_args_is_help=True)
plan_app = typer.Typer(help="年度政务公开工作要点（任务分解表）", no_args_is_help=True)
event_app = typer.Typer(help="事件触发的办理时限", no_args_is_help=True)
report_app = typer.Typer(help="报表", no_args_is_help=True)
applications_app = typer.Typer(help="依申请公开登记", no_args_is_help=True)
annual_app = typer.Typer(help="年报数据（表二、表三、表四手工填报）", no_args_is_help=True)
db_app = typer.Typer(help="数据库结构（迁移）", no_args_is_help=True)
app.add_typer(units_app, name="units")
app.add_typer(calendar_app, name="calendar")
calendar_app.add_typer(holidays_app, name="holidays")
app.add_typer(outbox_app, name="outbox")
app.add_typer(mail_app, name="mail")
app.add_typer(plan_app, name="plan")
app.add_typer(event_app, name="event")
app.add_typer(report_app, name="report")
app.add_typer(applications_app, name="applications")
app.add_typer(annual_app, name="annual")
app.add_typer(db_app, name="db")
app.add_typer(users_cli.app, name="users")
app.add_typer(audit_cli.app, name="audit")


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def warn(message: str) -> None:
    typer.echo(f"注意：{message}", err=True)


def parse_day(value: str, what: str = "日期") -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise UserError(f"{what}「{value}」无效，应为 YYYY-MM-DD（如 2026-11-25）") from None


def _db():  # type: ignore[no-untyped-def]
    from zwgk.db import init_db, session_scope

    init_db()
    return session_scope()


# --------------------------------------------------------------------------- init


@app.command()
def init(
    sample: Annotated[
        bool, typer.Option("--sample", help="同时导入示例单位名录（长宁区）")
    ] = False,
    if_empty: Annotated[bool, typer.Option("--if-empty", help="名录已有单位时不导入示例")] = False,
) -> None:
    """创建数据库表；--sample 同时导入示例名录。"""
    from zwgk.config import get_settings
    from zwgk.intake.directory import districts, import_units

    with _db() as session:
        typer.echo(f"数据库已就绪：{get_settings().db_url}")
        if not sample:
            return
        if if_empty and districts(session=session):
            typer.echo("名录中已有单位，跳过示例导入。")
            return
        path = Path(__file__).parents[1] / "data" / "sample_units.csv"
        result = import_units(session=session, path=path, district=SAMPLE_DISTRICT)
        typer.echo(
            f"已导入示例名录（{SAMPLE_DISTRICT}）：新增 {result.created} 个单位，更新 {result.updated} 个，未变 {result.unchanged} 个。"
        )


SAMPLE_DISTRICT = "长宁区"

# --------------------------------------------------------------------------- units


def _target_district(session: Any, district: str | None) -> str:
    """--district, else ZWGK_DEFAULT_DISTRICT, else the directory's only district."""
    from zwgk.config import get_settings
    from zwgk.intake.directory import districts

    d = district or get_settings().default_district
    if d:
        return d
    known = districts(session=session)
    if len(known) != 1:
        raise UserError("请用 --district 指定区名（如 --district 长宁区）")
    return str(known[0])


@units_app.command("import")
def units_import(
    file: Annotated[Path, typer.Argument(help="CSV：name,aliases,kind,email,contact,groups")],
    district: Annotated[str | None, typer.Option("--district", help="区名，如 长宁区")] = None,
) -> None:
    """导入（或更新）单位名录；重复导入同一文件不产生变化。"""
    from zwgk.intake.directory import import_units

    with _db() as session:
        d = _target_district(session, district)
        result = import_units(session=session, path=file, district=d)
    typer.echo(
        f"{d}：新增 {result.created} 个单位，更新 {result.updated} 个，未变 {result.unchanged} 个。"
    )


units_kinds_app = typer.Typer(help="本区自定的单位类别（默认类别之外）", no_args_is_help=True)
units_app.add_typer(units_kinds_app, name="kinds")


@units_kinds_app.command("import")
def units_kinds_import(
    file: Annotated[Path, typer.Argument(help="CSV：kind,label,groups（groups 以 | 分隔）")],
    district: Annotated[str | None, typer.Option("--district", help="区名，如 长宁区")] = None,
) -> None:
    """导入（或更新）本区自定的单位类别及其组名；单位名录的 kind 列即可使用这些类别。"""
    from zwgk.intake.directory import import_kinds

    with _db() as session:
        d = _target_district(session, district)
        result = import_kinds(session=session, path=file, district=d)
    typer.echo(
        f"{d}：新增 {result.created} 个类别，更新 {result.updated} 个，未变 {result.unchanged} 个。"
    )


@units_kinds_app.command("list")
def units_kinds_list(
    district: Annotated[str | None, typer.Option("--district")] = None,
) -> None:
    """列出单位类别：默认类别及各区自定的类别，以及各类别对应的组名。"""
    from sqlmodel import select

    from models.unit import KIND_LABELS, DistrictKind
    from zwgk.intake.directory import KIND_GROUPS, kind_label

    for kind, label in KIND_LABELS.items():
        typer.echo(f"（默认）  {kind}  [{label}]  组名：{'、'.join(KIND_GROUPS[kind])}")
    with _db() as session:
        stmt = select(DistrictKind)
        if district:
            stmt = stmt.where(DistrictKind.district == district)
        for k in session.exec(stmt.order_by(DistrictKind.district, DistrictKind.id)):  # type: ignore[arg-type]
            groups = "、".join(k.groups) or "（无）"
            label = kind_label(k.kind, {k.kind: k})
            extra = "（默认类别，本区另加组名）" if k.kind in KIND_LABELS else ""
            typer.echo(f"{k.district}  {k.kind}  [{label}]{extra}  组名：{groups}")


@units_app.command("list")
def units_list(
    district: Annotated[str | None, typer.Option("--district")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """列出单位名录。"""
    from zwgk.intake.directory import declared_kinds, kind_label, list_units

    with _db() as session:
        units = list_units(session=session, district=district)
        declared = {
            d: declared_kinds(session=session, district=d) for d in {u.district for u in units}
        }
    if as_json:
        echo_json(
            [
                {
                    "name": u.name,
                    "aliases": u.aliases,
                    "kind": str(u.kind),
                    "email": u.email,
                    "contact": u.contact,
                    "district": u.district,
                    "groups": u.groups,
                }
                for u in units
            ]
        )
        return
    from zwgk.cli.table import print_table

    print_table(
        ["区", "单位", "又称", "类别", "联络员", "邮箱"],
        [
            (
                u.district,
                u.name,
                "、".join(u.aliases),
                kind_label(u.kind, declared[u.district]),
                u.contact,
                u.email,
            )
            for u in units
        ],
    )
    typer.echo(f"共 {len(units)} 个单位。")


# --------------------------------------------------------------------------- calendar


@calendar_app.command("add-workdays")
def calendar_add_workdays(
    start: Annotated[str, typer.Argument(metavar="DATE", help="起算日期 YYYY-MM-DD")],
    n: Annotated[int, typer.Argument(metavar="N", help="工作日数（可为负数）")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """计算 DATE 之后第 N 个工作日。"""
    from notifications.render import cn_date
    from workflows.workcal import load_calendar

    day = parse_day(start)
    with _db() as session:
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

    with _db() as session:
        n = import_overrides(session=session, path=file)
    typer.echo(f"已导入 {n} 条节假日安排。")


@holidays_app.command("list")
def holidays_list() -> None:
    """列出管理员导入的节假日安排。"""
    from sqlmodel import select

    from models.calendar import HolidayOverride

    with _db() as session:
        rows = list(session.exec(select(HolidayOverride).order_by(HolidayOverride.day)))
    for r in rows:
        typer.echo(f"{r.day}  {'放假' if r.kind == 'holiday' else '上班'}  {r.name}")
    typer.echo(f"共 {len(rows)} 条。")


# --------------------------------------------------------------------------- plan


@plan_app.command("import")
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
    with _db() as session:
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


@plan_app.command("move-due")
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
    from workflows.workcal import load_calendar
    from zwgk.config import get_settings
    from zwgk.intake.directory import resolve_district
    from zwgk.intake.plan.deadlines import cn_date
    from zwgk.intake.plan.moves import move_due
    from zwgk.intake.tabular import FIRST_YEAR, LAST_YEAR

    day = parse_day(new_due, "截止日期")
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise UserError(f"截止日期「{new_due}」超出范围（应在 {FIRST_YEAR}–{LAST_YEAR} 年之间）")
    with _db() as session:
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


# --------------------------------------------------------------------------- obligations


@app.command("obligations")
def obligations_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """列出已登记的事项。"""
    from workflows.registry import REGISTRY

    if as_json:
        echo_json(
            [
                {
                    "slug": ob.slug,
                    "title": ob.title,
                    "cadence": str(ob.cadence),
                    "basis": ob.basis,
                    "schedule": ob.cron,
                    "steps": [s.slug for s in ob.steps],
                }
                for ob in REGISTRY.values()
            ]
        )
        return
    for ob in REGISTRY.values():
        typer.echo(f"{ob.slug:<20} {ob.title}（{ob.schedule_note}）")
        for s in ob.steps:
            typer.echo(f"    - {s.title}：{s.who.label}，{s.due.describe()}")


def _prefect_api():  # type: ignore[no-untyped-def]
    """The Prefect server this command's flow runs use (see ``deployments.prefect_api``)."""
    from deployments.prefect_api import prefect_api
    from zwgk.config import get_settings

    return prefect_api(get_settings())


@app.command("run")
def run(
    slug: Annotated[str, typer.Argument(metavar="SLUG", help="事项代码，如 monthly-filing")],
    period: Annotated[
        str | None, typer.Option("--period", help="期间：YYYY-MM / YYYY / YYYY-Qn")
    ] = None,
    today: Annotated[str | None, typer.Option("--today", help="按此日期运行（YYYY-MM-DD）")] = None,
    district: Annotated[str | None, typer.Option("--district")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="只显示将要生成和发送的内容，不写入")
    ] = False,
) -> None:
    """立即运行某事项的流程：生成清单并发送通知（reminders：按催办梯度发送提醒）。"""
    if slug == "reminders":
        _run_reminders(today, district, dry_run)
        return
    from models.checklist import ROLE_LABELS, Role
    from workflows.engine import build_checklist, preflight
    from workflows.registry import get_obligation
    from zwgk.clock import today_shanghai
    from zwgk.config import get_settings

    ob = get_obligation(slug)
    as_of = parse_day(today, "--today") if today else today_shanghai()
    p = ob.parse_period(period) if period else ob.period_for(as_of)
    # What a user can fix (no directory, no plan, unknown district) is one clear line here,
    # before Prefect starts, not an exception inside a flow run.
    with _db() as session:
        preflight(session=session, ob=ob, period=p, settings=get_settings(), district=district)
    if dry_run:
        with _db() as session:  # the same build, rolled back: the preview
            result = build_checklist(
                session=session,
                ob=ob,
                period=p,
                settings=get_settings(),
                district=district,
                dry_run=True,
            )
            session.rollback()
        from notifications.render import cn_date

        typer.echo(
            f"[演练] {ob.title}（{p.label}，{result.district}）：将新建事项 {result.created} 条（已有 {result.existing} 条），"
            f"将发送通知 {len(result.queued)} 封。未写入任何数据。"
        )
        for row in result.preview:
            typer.echo(
                f"  + {row['unit']}  {row['step_title']}  [{ROLE_LABELS[Role(row['role'])]}]  截止 {cn_date(date.fromisoformat(row['due']))}"
                + ("（暂定）" if row["provisional"] else "")
            )
        for name in result.queued:
            typer.echo(f"  ✉ {name}")
        return
    from workflows.flows import FLOWS

    with _prefect_api():
        flow_result = _flow_result(
            FLOWS[ob.slug](period=str(p), today=as_of, district=district, return_state=True)
        )
    typer.echo(
        f"{ob.title}（{p.label}，{flow_result['district']}）：新建事项 {flow_result['created']} 条，"
        f"已有 {flow_result['existing']} 条；发送通知 {flow_result['sent']} 封{_dispatch_notes(flow_result)}。"
    )
    if flow_result["provisional"]:
        warn("部分截止日期所在年度的节假日安排尚未收录，已按估算标注为暂定。")


def _flow_result(state: Any) -> dict[str, Any]:
    """The result of a completed flow run; a failed one becomes one clear error line."""
    if state.is_completed():
        return state.result()  # type: ignore[no-any-return]
    exc = state.result(raise_on_failure=False)
    if isinstance(exc, UserError):
        raise exc
    raise UserError(state.message or f"流程运行未完成（{state.name}）", exit_code=1)


def _run_reminders(today: str | None, district: str | None, dry_run: bool) -> None:
    from notifications.render import cn_day
    from zwgk.clock import today_shanghai
    from zwgk.config import get_settings

    as_of = parse_day(today, "--today") if today else today_shanghai()
    if dry_run:
        from workflows.reminders import sweep

        with _db() as session:
            result = sweep(session=session, settings=get_settings(), today=as_of, district=district)
            session.rollback()
        if not result.workday:
            typer.echo(f"[演练] {cn_day(as_of)} 不是工作日，不发送提醒。")
            return
        typer.echo(
            f"[演练] {cn_day(as_of)}：将向 {len(result.reminded)} 个单位发送提醒（未写入任何数据）。"
        )
        for unit, pairs in result.reminded.items():
            typer.echo(f"  ✉ {unit}：" + "、".join(f"#{i}({r})" for i, r in pairs))
        for who, n in result.office_summaries.items():
            typer.echo(f"  ✉ 逾期汇总 → {who}：{n} 个单位")
        for who, n in result.lead_summaries.items():
            typer.echo(f"  ✉ 牵头事项逾期汇总 → {who}：{n} 个单位")
        return
    from workflows.flows import reminders

    with _db():
        pass
    with _prefect_api():
        out = _flow_result(reminders(today=as_of, district=district, return_state=True))
    if not out["workday"]:
        typer.echo(f"{cn_day(as_of)} 不是工作日，未发送提醒。")
        return
    typer.echo(
        f"催办（{cn_day(as_of)}）：向 {len(out['reminded'])} 个单位发送提醒（逾期催办 {out['escalated']} 项），"
        f"向政务公开办发送逾期汇总 {out['office_summaries']} 封、向牵头单位发送 {out['lead_summaries']} 封，"
        f"共发出邮件 {out['sent']} 封；跳过过期梯度 {out['skipped']} 个。"
    )
    if notes := _dispatch_notes(out):
        typer.echo(f"发件箱{notes}。")


@app.command("waive")
def waive_cmd(
    item_id: Annotated[int, typer.Argument(metavar="ITEM_ID")],
    reason: Annotated[str | None, typer.Option("--reason", help="免办理由（必填）")] = None,
    by: Annotated[str, typer.Option("--by", help="操作人")] = "政务公开办",
) -> None:
    """免办某事项（须说明理由）。"""
    from workflows.items import waive

    with _db() as session:
        waive(session=session, item_id=item_id, reason=reason or "", by=by)
    typer.echo(f"事项 {item_id} 已免办（理由：{reason}）。")


@app.command("reopen")
def reopen_cmd(
    item_id: Annotated[int, typer.Argument(metavar="ITEM_ID")],
    by: Annotated[str, typer.Option("--by", help="操作人")] = "政务公开办",
    reason: Annotated[str, typer.Option("--reason")] = "",
) -> None:
    """重新打开已完成或已免办的事项。"""
    from workflows.items import reopen

    with _db() as session:
        reopen(session=session, item_id=item_id, by=by, reason=reason)
    typer.echo(f"事项 {item_id} 已重新打开，恢复催办。")


@event_app.command("record")
def event_record(
    kind: Annotated[str, typer.Argument(metavar="KIND", help="事件类型，如 decision-feedback")],
    unit: Annotated[str, typer.Option("--unit", help="单位名称或别名")],
    on: Annotated[str, typer.Option("--date", help="事件发生日期 YYYY-MM-DD")],
    ref: Annotated[str, typer.Option("--ref", help="文号、留言编号等")],
    district: Annotated[str | None, typer.Option("--district")] = None,
    corrected_on: Annotated[
        str | None, typer.Option("--corrected-on", help="补正后收到日期 YYYY-MM-DD（依申请公开）")
    ] = None,
    consultation: Annotated[
        tuple[str, str] | None,
        typer.Option("--consultation", help="征求第三方意见的起止日期 FROM TO（不计入答复期限）"),
    ] = None,
    consultation_days: Annotated[
        int | None, typer.Option("--consultation-days", help="征求第三方意见的工作日数")
    ] = None,
) -> None:
    """登记一个事件（如决策文件印发），按工作日生成办理时限。"""
    from notifications.outbox import dispatch
    from workflows.events import get_event_kind, record_event
    from zwgk.config import get_settings
    from zwgk.intake.directory import find_unit

    k = get_event_kind(kind)
    day = parse_day(on, "--date")
    with _db() as session:
        u = find_unit(session=session, name=unit, district=district)
        fixed, excluded = _clock_options(
            session, day, corrected_on, consultation, consultation_days
        )
        item, created = record_event(
            session=session,
            kind=k,
            unit=u,
            on=day,
            ref=ref,
            settings=get_settings(),
            corrected_on=fixed,
            excluded_workdays=excluded or 0,
        )
        item_id, due, provisional, basis = item.id, item.due, item.provisional, item.due_basis
    if not created:
        typer.echo(f"该事件已登记过（事项 {item_id}），未重复创建。")
        if corrected_on or consultation or consultation_days is not None:
            typer.echo(f"补正起算或扣除征求意见时间请用：zwgk event update {item_id} …")
        return
    from notifications.render import cn_date

    typer.echo(
        f"已登记事项 {item_id}：{u.name} {k.title}，须于{cn_date(due)}前完成"
        + ("（暂定）" if provisional else "")
        + (f"（{basis}）" if basis else "")
        + "。"
    )
    report = dispatch(settings=get_settings(), respect_backoff=False)
    if not report.ok:
        warn("通知邮件暂未发出，将在下次运行时重试：" + "；".join(report.errors()[:3]))


def _clock_options(  # type: ignore[no-untyped-def]
    session,
    received: date,
    corrected_on: str | None,
    consultation: tuple[str, str] | None,
    consultation_days: int | None,
) -> tuple[date | None, int | None]:
    """--corrected-on, --consultation FROM TO, --consultation-days as (date, working days)."""
    from workflows.events import consultation_workdays
    from workflows.workcal import load_calendar

    fixed = parse_day(corrected_on, "--corrected-on") if corrected_on else None
    if consultation is not None and consultation_days is not None:
        raise UserError("--consultation 与 --consultation-days 只能选用一个")
    if consultation_days is not None and consultation_days < 0:
        raise UserError(
            f"--consultation-days（征求第三方意见的工作日数）不能为负数：{consultation_days}"
        )
    if consultation is None:
        return fixed, consultation_days
    start, end = (parse_day(v, "--consultation") for v in consultation)
    days = consultation_workdays(
        cal=load_calendar(session), start=start, end=end, received=received
    )
    return fixed, days


@event_app.command("update")
def event_update(
    item_id: Annotated[int, typer.Argument(metavar="ITEM", help="事项编号")],
    corrected_on: Annotated[
        str | None, typer.Option("--corrected-on", help="补正后收到日期 YYYY-MM-DD")
    ] = None,
    consultation: Annotated[
        tuple[str, str] | None,
        typer.Option("--consultation", help="征求第三方意见的起止日期 FROM TO（不计入答复期限）"),
    ] = None,
    consultation_days: Annotated[
        int | None, typer.Option("--consultation-days", help="征求第三方意见的工作日数")
    ] = None,
    by: Annotated[str, typer.Option("--by", help="操作人")] = "",
) -> None:
    """调整已登记的依申请公开答复期限：补正后重新起算、扣除征求第三方意见时间。"""
    from models import ChecklistItem
    from notifications.render import cn_date
    from workflows.events import adjust_clock

    if corrected_on is None and consultation is None and consultation_days is None:
        raise UserError("请至少给出 --corrected-on、--consultation 或 --consultation-days 之一")
    with _db() as session:
        found = session.get(ChecklistItem, item_id)
        if found is None:
            raise UserError(f"事项 {item_id} 不存在")
        received = date.fromisoformat(found.period)
        fixed, excluded = _clock_options(
            session, received, corrected_on, consultation, consultation_days
        )
        item = adjust_clock(
            session=session,
            item_id=item_id,
            corrected_on=fixed,
            excluded_workdays=excluded,
            by=by,
        )
        due, basis = item.due, item.due_basis
    typer.echo(
        f"事项 {item_id} 的答复期限已调整为{cn_date(due)}"
        + (f"（{basis}）" if basis else "")
        + "。"
    )


@event_app.command("kinds")
def event_kinds() -> None:
    """列出可登记的事件类型。"""
    from workflows.events import EVENT_KINDS

    for k in EVENT_KINDS.values():
        typer.echo(f"{k.slug:<20} {k.event_label} → {k.workdays} 个工作日内{k.title}")


@app.command("web")
def web_cmd(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
) -> None:
    """启动完成情况填报网页（各单位通过邮件中的链接访问）。"""
    import uvicorn

    from zwgk.config import get_settings
    from zwgk.db import init_db
    from zwgk.web.app import create_app

    init_db()
    typer.echo(f"填报网页：http://{host}:{port}（邮件中的链接前缀：{get_settings().web_base_url}）")
    uvicorn.run(create_app(), host=host, port=port, log_level="warning")


@report_app.command("progress")
def report_progress(
    period: Annotated[str, typer.Option("--period", help="期间，如 2026-11、2026、2026-Q4")],
    fmt: Annotated[str, typer.Option("--format", help="xlsx、csv 或 md")] = "md",
    obligation: Annotated[str | None, typer.Option("--obligation", help="事项代码")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="输出文件（xlsx 必填）")] = None,
    today: Annotated[str | None, typer.Option("--today", help="按此日期判断逾期")] = None,
) -> None:
    """各单位完成情况汇总：按时完成、逾期完成、未到期、已逾期、免办，并列出逾期事项。"""
    from workflows.progress import item_rows
    from workflows.registry import get_obligation
    from zwgk.clock import today_shanghai
    from zwgk.reports.progress import to_csv, to_markdown, to_xlsx

    if fmt not in ("xlsx", "csv", "md"):
        raise UserError(f"--format「{fmt}」无效，应为 xlsx、csv 或 md")
    if obligation:
        period = str(get_obligation(obligation).parse_period(period))
    as_of = parse_day(today, "--today") if today else today_shanghai()
    with _db() as session:
        rows = item_rows(session=session, today=as_of, obligation=obligation, period=period)
    from notifications.render import cn_day, cn_period

    if not rows:
        raise UserError(
            f"期间 {cn_period(period) if period else '（全部）'}"
            + (f"、事项 {obligation}" if obligation else "")
            + " 没有任何事项",
            exit_code=1,
        )

    title = f"{cn_period(period)}政务公开事项完成情况（截至{cn_day(as_of)}）"
    if fmt == "md":
        data: bytes = to_markdown(rows, title=title).encode("utf-8")
    elif fmt == "csv":
        data = to_csv(rows)
    else:
        if out is None:
            raise UserError("xlsx 格式请用 --out 指定输出文件，如 --out 进度.xlsx")
        data = to_xlsx(rows)
    if out is None:
        sys.stdout.write(data.decode("utf-8-sig"))
        return
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(out)
    typer.echo(f"已写入 {out}（{len(rows)} 个事项）。")


@applications_app.command("import")
def applications_import(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV 或 XLSX：unit,received,applicant_type,outcome,replied[,ref,extended]"
        ),
    ],
    district: Annotated[str | None, typer.Option("--district")] = None,
) -> None:
    """导入依申请公开登记（重复导入不会重复登记），并跟踪法定答复期限。"""
    from zwgk.config import get_settings
    from zwgk.reports.annual import import_register

    with _db() as session:
        r = import_register(session=session, path=file, district=district, settings=get_settings())
    typer.echo(f"依申请公开登记：新增 {r.created} 件，更新 {r.updated} 件，未变 {r.unchanged} 件。")


@applications_app.command("add")
def applications_add(
    unit: Annotated[str, typer.Option("--unit")],
    received: Annotated[str, typer.Option("--received", help="收到日期 YYYY-MM-DD")],
    applicant_type: Annotated[
        str,
        typer.Option(
            "--applicant-type", help="自然人、商业企业、科研机构、社会公益组织、法律服务机构、其他"
        ),
    ],
    outcome: Annotated[
        str, typer.Option("--outcome", help="办理结果，如 予以公开、不予公开/属于国家秘密")
    ] = "",
    replied: Annotated[str, typer.Option("--replied", help="答复日期 YYYY-MM-DD")] = "",
    ref: Annotated[str, typer.Option("--ref", help="申请编号")] = "",
    extended: Annotated[bool, typer.Option("--extended", help="已延期答复")] = False,
    district: Annotated[str | None, typer.Option("--district")] = None,
) -> None:
    """登记一件政府信息公开申请。"""
    import csv
    import tempfile

    from zwgk.config import get_settings
    from zwgk.reports.annual import import_register

    # One row through the same validation as a file import.
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "命令行.csv"
        with path.open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(
                ["unit", "received", "applicant_type", "outcome", "replied", "ref", "extended"]
            )
            w.writerow(
                [unit, received, applicant_type, outcome, replied, ref, "yes" if extended else ""]
            )
        with _db() as session:
            r = import_register(
                session=session, path=path, district=district, settings=get_settings()
            )
    typer.echo(
        "已登记。"
        if r.created
        else "该申请已登记过，已更新。"
        if r.updated
        else "该申请已登记过，未作改动。"
    )


@annual_app.command("import")
def annual_import(
    file: Annotated[Path, typer.Argument(help="CSV：unit,year,table,row,column,value")],
    district: Annotated[str | None, typer.Option("--district")] = None,
) -> None:
    """导入年报表格的手工数据（表二、表四，或表三的更正数）。"""
    from zwgk.reports.annual import import_figures

    with _db() as session:
        n = import_figures(session=session, path=file, district=district)
    typer.echo(f"已导入 {n} 个数据。")


@annual_app.command("set")
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
    from zwgk.intake.directory import find_unit
    from zwgk.reports.annual import set_figure

    if value < 0:
        raise UserError("数值不能为负数")
    with _db() as session:
        u = find_unit(session=session, name=unit, district=district)
        set_figure(
            session=session, unit=u, year=year, table=table, row=row, col_=column, value=value
        )
    typer.echo(f"已填写 {u.name} {year} 年 {table}「{row}」「{column}」= {value:g}。")


@report_app.command("annual")
def report_annual(
    year: Annotated[int, typer.Option("--year", help="报告年度")],
    unit: Annotated[str | None, typer.Option("--unit", help="单位（单位年报）")] = None,
    district: Annotated[
        str | None, typer.Option("--district", help="区（全区年报，汇总各单位）")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="md、docx 或 json")] = "md",
    out: Annotated[Path | None, typer.Option("--out", help="输出文件（docx 必填）")] = None,
) -> None:
    """生成政府信息公开工作年度报告草稿，并校验表三的勾稽关系。"""
    from zwgk.intake.directory import find_unit, resolve_district
    from zwgk.reports.annual import build_report
    from zwgk.reports.annual_docx import to_docx, to_markdown

    if fmt not in ("md", "docx", "json"):
        raise UserError(f"--format「{fmt}」无效，应为 md、docx 或 json")
    if unit and district:
        raise UserError("--unit 和 --district 只能选一个")
    with _db() as session:
        if unit:
            report = build_report(
                session=session, year=year, unit=find_unit(session=session, name=unit)
            )
        else:
            d = resolve_district(session=session, district=district, default=None)
            report = build_report(session=session, year=year, district=d)
    if fmt == "json":
        data = json.dumps(report.as_json(), ensure_ascii=False, indent=2).encode()
    elif fmt == "md":
        data = to_markdown(report).encode()
    else:
        if out is None:
            raise UserError("docx 格式请用 --out 指定输出文件")
        data = to_docx(report)
    if out is None:
        sys.stdout.write(data.decode() + "\n")
    else:
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(out)
        typer.echo(f"已写入 {out}。")
    if report.errors:
        warn(f"勾稽关系校验发现 {len(report.errors)} 处问题：\n" + "\n".join(report.errors[:20]))


@app.command("complete")
def complete_cmd(
    item_id: Annotated[int, typer.Argument(metavar="ITEM_ID", help="事项编号")],
    evidence: Annotated[str, typer.Option("--evidence", help="佐证网址（公开页面 URL）")],
    note: Annotated[str | None, typer.Option("--note", help="备注")] = None,
    by: Annotated[str | None, typer.Option("--by", help="登记人")] = None,
) -> None:
    """登记事项完成（含佐证网址）。"""
    from workflows.items import complete

    with _db() as session:
        result = complete(session=session, item_id=item_id, evidence=evidence, note=note, by=by)
        item = result.item
    if result.already_done:
        typer.echo(f"事项 {item_id} 此前已登记完成，本次未作改动。")
    else:
        timing = "按时" if item.on_time else "逾期"
        typer.echo(f"事项 {item_id} 已登记完成（{timing}），佐证：{item.evidence}")


STATUS_LABELS = {"pending": "待办", "done": "已完成", "overdue": "已逾期", "waived": "免办"}


@app.command("status")
def status_cmd(
    obligation: Annotated[str | None, typer.Option("--obligation", help="事项代码")] = None,
    period: Annotated[str | None, typer.Option("--period")] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="单位名称或别名")] = None,
    today: Annotated[str | None, typer.Option("--today", help="按此日期判断逾期")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """查看事项清单及完成情况。"""
    from workflows.items import item_json, query_items
    from workflows.registry import get_obligation
    from zwgk.clock import today_shanghai
    from zwgk.intake.directory import find_unit
    from zwgk.intake.plan.moves import overdue_at_issue

    as_of = parse_day(today, "--today") if today else today_shanghai()
    if obligation:
        ob = get_obligation(obligation)
        if period:
            period = str(ob.parse_period(period))
    from workflows.registry import item_titles

    titles = item_titles()
    with _db() as session:
        u = find_unit(session=session, name=unit) if unit else None
        pairs = query_items(session=session, obligation=obligation, period=period, unit=u)
        late = overdue_at_issue(session=session, rows=pairs)  # 印发时已逾期
        rows = [
            {
                **item_json(i, un, as_of),
                "obligation_title": titles.get(i.obligation, i.obligation),
                "step_title": i.step_title,
                "overdue_at_issue": i.id in late,
            }
            for i, un in pairs
        ]
    if as_json:
        echo_json(rows)
        return
    from datetime import datetime

    from notifications.render import cn_date, cn_day, cn_period
    from workflows.items import TZ
    from zwgk.cli.table import print_table

    table = []
    for r in rows:
        notes = []
        if r["completed_at"]:
            finished = cn_day(datetime.fromisoformat(r["completed_at"]).astimezone(TZ).date())
            notes.append(f"完成于{finished} {r['evidence'] or ''}".strip())
        if r["due_basis"]:
            notes.append(r["due_basis"])
        table.append(
            (
                r["id"],
                r["obligation_title"],
                cn_period(r["period"]),
                r["unit"],
                r["step_title"],
                cn_date(date.fromisoformat(r["due"])),
                STATUS_LABELS[r["status"]] + ("（印发时已逾期）" if r["overdue_at_issue"] else ""),
                "；".join(notes),
            )
        )
    print_table(["编号", "事项", "期间", "单位", "步骤", "截止日期", "状态", "备注"], table)
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    summary = "，".join(f"{STATUS_LABELS[k]} {v}" for k, v in sorted(counts.items()))
    typer.echo(f"共 {len(rows)} 条" + (f"（{summary}）" if rows else "") + "。")
    if late:
        marked = [f"#{r['id']}" for r in rows if r["overdue_at_issue"]]
        ids = "、".join(marked[:20]) + ("等" if len(marked) > 20 else "")
        typer.echo(
            f"其中 {len(late)} 条印发时已逾期（截止日期早于工作要点印发日期）：{ids}；"
            "可用 zwgk plan move-due 确认或调整。"
        )


# --------------------------------------------------------------------------- outbox


OUTBOX_LABELS = {"pending": "待发送", "sending": "发送中", "sent": "已发送", "failed": "失败"}


@outbox_app.command("list")
def outbox_list(
    status: Annotated[
        str | None, typer.Option("--status", help="pending|sending|sent|failed")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """列出发件箱中的邮件（含失败原因和下次重试时间）。"""
    from notifications.outbox import counts, list_outbox
    from zwgk.clock import as_utc

    if status and status not in OUTBOX_LABELS:
        raise UserError(f"--status「{status}」无效，应为 pending、sending、sent 或 failed")
    with _db() as session:
        rows = list_outbox(session=session, status=status)
        totals = counts(session=session)
    data = [
        {
            "id": m.id,
            "recipient": m.recipient,
            "cc": m.cc,
            "obligation": m.obligation,
            "period": m.period,
            "kind": m.kind,
            "status": str(m.status),
            "attempts": m.attempts,
            "last_error": m.last_error,
            "next_attempt_at": _iso(as_utc(m.next_attempt_at)),
            "claimed_by": m.claimed_by,
            "claimed_at": _iso(as_utc(m.claimed_at)),
            "sent_at": _iso(as_utc(m.sent_at)),
            "subject": m.subject,
        }
        for m in rows
    ]
    if as_json:
        echo_json(data)
        return
    from notifications.outbox import holder_name, shanghai_time
    from zwgk.cli.table import print_table

    table = []
    for d, m in zip(data, rows, strict=True):
        notes = []
        if d["status"] == "sending" and m.claimed_by:
            notes.append(
                f"{holder_name(m.claimed_by)}，最近续期 {shanghai_time(m.claimed_at, seconds=True)}"
            )
        if d["status"] in ("pending", "failed") and d["attempts"]:
            notes.append(f"已尝试 {d['attempts']} 次")
        if d["status"] == "pending" and m.next_attempt_at:
            notes.append(f"{shanghai_time(m.next_attempt_at)} 后重试")
        if d["last_error"]:
            notes.append(f"原因：{d['last_error']}")
        table.append(
            (d["id"], OUTBOX_LABELS[d["status"]], d["recipient"], d["subject"], "，".join(notes))
        )
    print_table(["编号", "状态", "收件人", "主题", "备注"], table)
    summary = "，".join(f"{OUTBOX_LABELS[k]} {v}" for k, v in sorted(totals.items()))
    typer.echo(f"共 {len(data)} 封" + (f"（发件箱合计：{summary}）" if totals else "") + "。")


def _dispatch_notes(flow_result: dict[str, Any]) -> str:
    """Clauses, each led by "；", on what a flow run's dispatch took over or left (queued,
    held by another dispatcher, waiting for a retry) and when it goes; "" when nothing."""
    from notifications.outbox import DispatchReport

    notes = DispatchReport.from_dict(flow_result.get("dispatch") or {}).notes()
    return "".join(f"；{n}" for n in notes)


def _report_dispatch(report) -> None:  # type: ignore[no-untyped-def]
    typer.echo(f"{report.summary()}。")
    if not report.ok:
        raise UserError(
            "以下邮件未能发出（原因见下；暂未发出的会自动重试，可用 zwgk outbox list 查看）：\n"
            + "\n".join(report.errors()[:10]),
            exit_code=1,
        )


@outbox_app.command("retry")
def outbox_retry(
    message_id: Annotated[int | None, typer.Argument(metavar="ID")] = None,
    all_: Annotated[bool, typer.Option("--all", help="重试全部失败和待重试的邮件")] = False,
) -> None:
    """把失败（或等待重试）的邮件重新放回队列并立即发送。"""
    from notifications.outbox import dispatch, retry
    from zwgk.config import get_settings

    if message_id is None and not all_:
        raise UserError("请指定邮件编号 ID，或使用 --all")
    if message_id is not None and all_:
        raise UserError("邮件编号 ID 和 --all 只能选一个")
    ids = None if all_ else [message_id]
    with _db() as session:
        n = retry(session=session, ids=ids)  # type: ignore[arg-type]
    if message_id is not None and n == 0:
        with _db() as session:
            from models.outbox import OutboxMessage

            msg = session.get(OutboxMessage, message_id)
        if msg is None:
            raise UserError(f"发件箱中没有编号为 {message_id} 的邮件")
        raise UserError(
            f"邮件 #{message_id} 状态为「{OUTBOX_LABELS[str(msg.status)]}」，无需重试", exit_code=1
        )
    typer.echo(f"重新排队 {n} 封。")
    _report_dispatch(dispatch(settings=get_settings(), ids=ids, respect_backoff=False))  # type: ignore[arg-type]


@outbox_app.command("send")
def outbox_send() -> None:
    """发送队列中到期的邮件（失败后按退避时间等待的邮件到期才发；定时任务每 30 分钟也会执行）。"""
    from notifications.outbox import dispatch
    from zwgk.config import get_settings

    with _db():
        pass
    _report_dispatch(dispatch(settings=get_settings()))


# --------------------------------------------------------------------------- database


@db_app.command("upgrade")
def db_upgrade() -> None:
    """把数据库结构升级到最新版本（新装或升级 zwgk 后运行；其他命令也会自动执行）。"""
    from zwgk.config import get_settings
    from zwgk.db import get_engine
    from zwgk.migrations import upgrade

    before, after = upgrade(get_engine())
    where = _safe_url(get_settings().db_url)
    if before == after:
        typer.echo(f"数据库已是最新版本（{after}）：{where}")
    else:
        typer.echo(f"数据库已从 {before or '空库'} 升级到 {after}：{where}")


@db_app.command("current")
def db_current() -> None:
    """显示数据库结构的当前版本。"""
    from zwgk.db import get_engine
    from zwgk.migrations import current, head

    with get_engine().connect() as conn:
        rev = current(conn)
    state = "最新" if rev == head() else f"最新为 {head()}，请运行 zwgk db upgrade"
    typer.echo(f"{rev or '未初始化'}（{state}）")


@db_app.command("revision")
def db_revision(
    message: Annotated[str, typer.Option("-m", "--message", help="这次结构变更说明（英文）")],
) -> None:
    """（开发者）根据模型与数据库的差异生成一个迁移脚本。"""
    from zwgk.db import get_engine
    from zwgk.migrations import new_revision, upgrade

    engine = get_engine()
    upgrade(engine)
    paths = new_revision(engine, message)
    if not paths:
        raise UserError("模型与数据库结构一致，没有需要生成的迁移")
    for path in paths:
        typer.echo(f"已生成 {path}，请检查后与模型改动一起提交。")


def _safe_url(url: str) -> str:
    """The database URL without its password."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


# --------------------------------------------------------------------------- services


@mail_app.command("capture")
def mail_capture(
    port: Annotated[int | None, typer.Option("--port")] = None,
) -> None:
    """启动本地邮件捕获服务，邮件存为 var/mail/*.eml。"""
    import time

    from notifications.capture import start_capture
    from zwgk.config import get_settings

    settings = get_settings()
    controller = start_capture(settings.mail_dir, port=port or settings.mail_capture_port)
    typer.echo(
        f"本地邮件捕获已启动：127.0.0.1:{controller.port}，邮件保存在 {settings.mail_dir}/（Ctrl-C 退出）"
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        controller.stop()


@app.command("serve")
def serve() -> None:
    """在 Prefect 中提供所有事项的定时部署（需要 Prefect 服务器）。"""
    from deployments.prefect_api import prefect_api
    from zwgk.config import get_settings

    with prefect_api(get_settings(), temporary=False):
        from deployments.serve import serve_all

        serve_all()


@app.command("up")
def up(
    port: Annotated[int, typer.Option("--port", help="Prefect 界面端口")] = 4200,
    web_port: Annotated[int, typer.Option("--web-port", help="填报网页端口")] = 8000,
) -> None:
    """本地一键启动：Prefect 服务器、填报网页、本地邮件捕获（未配置 SMTP 时）、全部定时部署。"""
    from deployments.local import run_local

    run_local(port=port, web_port=web_port)


def main(argv: list[str] | None = None) -> None:
    """Entry point: user errors become one Chinese line and a non-zero exit, never a traceback;
    usage errors the usage line and one Chinese sentence, exit 2."""
    import logging

    from zwgk.cli import usage

    # Our English log lines go to Prefect's handlers inside flows; on the command line the
    # Chinese messages say it, so keep Python's last-resort handler quiet.
    logging.getLogger("zwgk").addHandler(logging.NullHandler())
    usage_error, click_error = usage.click_classes()
    try:
        _prefect_home()
        rc = app(args=argv, standalone_mode=False)
        if isinstance(rc, int) and rc:
            sys.exit(rc)
    except UserError as exc:
        typer.echo(f"错误：{exc.message}", err=True)
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("已取消。", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        typer.echo("已中断。", err=True)
        sys.exit(130)
    except usage_error as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # `zwgk units`: the group's help
            exc.show()  # type: ignore[attr-defined]
        else:
            usage.show(exc)
        sys.exit(2)
    except click_error as exc:  # e.g. a file typer could not open
        typer.echo(f"错误：{exc.format_message()}", err=True)  # type: ignore[attr-defined]
        sys.exit(1)
    except _db_errors() as exc:
        typer.echo(
            f"错误：无法访问数据库（{exc.__class__.__name__}: {str(exc).splitlines()[0]}）",
            err=True,
        )
        sys.exit(3)


def _prefect_home() -> None:
    """Prefect's home before anything imports Prefect (it reads the home on import)."""
    from deployments.prefect_api import default_home
    from zwgk.config import get_settings

    default_home(get_settings())


def _db_errors():  # type: ignore[no-untyped-def]
    from sqlalchemy.exc import OperationalError

    return OperationalError
