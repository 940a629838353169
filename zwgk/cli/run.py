"""``zwgk obligations`` and ``zwgk run``: the registered obligations, and running one now."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer

from zwgk.cli.common import DistrictOption, echo_json, open_db, parse_day, warn
from zwgk.errors import UserError

app = typer.Typer()


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
    from zwgk.cli.table import print_table

    rows: list[tuple[str, ...]] = []
    for ob in REGISTRY.values():
        head = (ob.slug, ob.title, ob.schedule_note)
        steps = [(s.title, s.who.label, s.due.describe()) for s in ob.steps] or [("", "", "")]
        rows += [(*(head if i == 0 else ("", "", "")), *step) for i, step in enumerate(steps)]
    print_table(["代码", "事项", "安排", "步骤", "承办", "时限"], rows)


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
    district: DistrictOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="只显示将要生成和发送的内容，不写入")
    ] = False,
) -> None:
    """立即运行某事项的流程：生成清单并发送通知（reminders：按催办梯度发送提醒；bulletin：发送上月通报）。"""
    if slug == "reminders":
        _run_reminders(today, district, dry_run)
        return
    if slug == "bulletin":
        _run_bulletin(period, today, district, dry_run)
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
    with open_db() as session:
        preflight(session=session, ob=ob, period=p, settings=get_settings(), district=district)
    if dry_run:
        with open_db() as session:  # the same build, rolled back: the preview
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

        with open_db() as session:
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

    with open_db():
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


def _run_bulletin(
    period: str | None, today: str | None, district: str | None, dry_run: bool
) -> None:
    """The ``bulletin`` flow now: last month's 通报 (or ``--period``'s) to each office."""
    from models.directory import resolve_district
    from notifications.render import cn_day, cn_period
    from zwgk.clock import today_shanghai
    from zwgk.periods import Cadence, Period

    as_of = parse_day(today, "--today") if today else today_shanghai()
    if period:
        from workflows.bulletin_mail import bulletin_month

        month = Period.parse(period, Cadence.monthly)
        # A month not over yet is refused here (a dry run too: it is what the run would
        # do), before Prefect starts, with where to see the figures so far.
        try:
            bulletin_month(str(month), as_of)
        except UserError as exc:
            raise UserError(
                f"{exc.message}截至目前的完成情况可用 zwgk report bulletin --period {month} 查看。"
            ) from None
        period = str(month)
    with open_db() as session:
        if district:
            resolve_district(session=session, district=district, default=None)
        if dry_run:
            from workflows.bulletin_mail import queue_bulletins
            from zwgk.config import get_settings

            out = queue_bulletins(
                session=session,
                settings=get_settings(),
                today=as_of,
                district=district,
                period=period,
            ).as_dict()
            session.rollback()
    if not dry_run:
        from workflows.flows import bulletin

        with _prefect_api():
            out = _flow_result(
                bulletin(today=as_of, district=district, period=period, return_state=True)
            )
    tag = "[演练] " if dry_run else ""
    if not out["due"]:
        first = date.fromisoformat(out["first_workday"])
        typer.echo(f"{tag}{cn_day(as_of)} 早于本月第一个工作日（{cn_day(first)}），不发送通报。")
        return
    label = cn_period(out["period"])
    parts = [f"{tag}通报（{label}）："]
    if out["queued"]:
        verb = "将发送" if dry_run else "已发送"
        parts.append(f"{verb}{'、'.join(out['queued'])}的通报")
    if out["existing"]:
        parts.append(f"{'、'.join(out['existing'])}的通报此前已发送，不再重复")
    if out["no_recipient"]:
        parts.append(f"{'、'.join(out['no_recipient'])}没有区政府办公室邮箱和领导邮箱，未发送")
    typer.echo(parts[0] + "；".join(parts[1:]) + "。")
    if not dry_run and (notes := _dispatch_notes(out)):
        typer.echo(f"发件箱{notes}。")


def _dispatch_notes(flow_result: dict[str, Any]) -> str:
    """Clauses, each led by "；", on what a flow run's dispatch took over or left (queued,
    held by another dispatcher, waiting for a retry) and when it goes; "" when nothing."""
    from notifications.outbox_report import DispatchReport

    notes = DispatchReport.from_dict(flow_result.get("dispatch") or {}).notes()
    return "".join(f"；{n}" for n in notes)
