"""``zwgk event``: event-triggered deadlines (事件触发的办理时限), and an information request's clock."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from zwgk.cli.common import DistrictOption, open_db, parse_day, warn
from zwgk.errors import UserError

app = typer.Typer(help="事件触发的办理时限", no_args_is_help=True)

# An information request's clock (依申请公开), the same on event record and event update.
Consultation = Annotated[
    tuple[str, str] | None,
    typer.Option("--consultation", help="征求第三方意见的起止日期 FROM TO（不计入答复期限）"),
]
ConsultationDays = Annotated[
    int | None, typer.Option("--consultation-days", help="征求第三方意见的工作日数")
]


@app.command("record")
def event_record(
    kind: Annotated[str, typer.Argument(metavar="KIND", help="事件类型，如 decision-feedback")],
    unit: Annotated[str, typer.Option("--unit", help="单位名称或别名")],
    on: Annotated[str, typer.Option("--date", help="事件发生日期 YYYY-MM-DD")],
    ref: Annotated[str, typer.Option("--ref", help="文号、留言编号等")],
    district: DistrictOption = None,
    corrected_on: Annotated[
        str | None, typer.Option("--corrected-on", help="补正后收到日期 YYYY-MM-DD（依申请公开）")
    ] = None,
    consultation: Consultation = None,
    consultation_days: ConsultationDays = None,
) -> None:
    """登记一个事件（如决策文件印发），按工作日生成办理时限。"""
    from models.directory import find_unit
    from notifications.outbox_send import dispatch
    from workflows.events import get_event_kind, record_event
    from zwgk.config import get_settings

    k = get_event_kind(kind)
    day = parse_day(on, "--date")
    with open_db() as session:
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


@app.command("update")
def event_update(
    item_id: Annotated[int, typer.Argument(metavar="ITEM", help="事项编号")],
    corrected_on: Annotated[
        str | None, typer.Option("--corrected-on", help="补正后收到日期 YYYY-MM-DD")
    ] = None,
    consultation: Consultation = None,
    consultation_days: ConsultationDays = None,
    by: Annotated[str, typer.Option("--by", help="操作人")] = "",
) -> None:
    """调整已登记的依申请公开答复期限：补正后重新起算、扣除征求第三方意见时间。"""
    from models import ChecklistItem
    from notifications.render import cn_date
    from workflows.events import adjust_clock

    if corrected_on is None and consultation is None and consultation_days is None:
        raise UserError("请至少给出 --corrected-on、--consultation 或 --consultation-days 之一")
    with open_db() as session:
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


@app.command("kinds")
def event_kinds() -> None:
    """列出可登记的事件类型。"""
    from workflows.events import EVENT_KINDS
    from zwgk.cli.table import print_table

    print_table(
        ["类型", "事件", "时限"],
        [
            (k.slug, k.event_label, f"{k.workdays} 个工作日内{k.title}")
            for k in EVENT_KINDS.values()
        ],
    )
