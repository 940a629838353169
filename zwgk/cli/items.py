"""``zwgk complete``, ``waive``, ``reopen`` and ``status``: checklist items (事项) by hand."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from zwgk.cli.common import echo_json, open_db, parse_day

app = typer.Typer()


@app.command("waive")
def waive_cmd(
    item_id: Annotated[int, typer.Argument(metavar="ITEM_ID")],
    reason: Annotated[str | None, typer.Option("--reason", help="免办理由（必填）")] = None,
    by: Annotated[str, typer.Option("--by", help="操作人")] = "政务公开办",
) -> None:
    """免办某事项（须说明理由）。"""
    from workflows.items import waive

    with open_db() as session:
        waive(session=session, item_id=item_id, reason=reason or "", by=by)
    typer.echo(f"事项 {item_id} 已免办（理由：{reason}）。")


@app.command("reopen")
def reopen_cmd(
    item_id: Annotated[int, typer.Argument(metavar="ITEM_ID")],
    by: Annotated[str, typer.Option("--by", help="操作人")] = "政务公开办",
    reason: Annotated[str, typer.Option("--reason")] = "",
) -> None:
    """重新打开已完成或已免办的事项。"""
    from models.checklist import ChecklistItem, ItemStatus
    from workflows.items import awaiting_review_ids, reopen

    with open_db() as session:
        item = session.get(ChecklistItem, item_id) if item_id > 0 else None
        was_done = item is not None and item.status == ItemStatus.done
        awaiting = was_done and bool(awaiting_review_ids(session=session, items=[item]))  # type: ignore[list-item]
        reopen(session=session, item_id=item_id, by=by, reason=reason)
    typer.echo(
        f"事项 {item_id} 已重新打开，恢复催办"
        + ("；单位待审核的填报随之撤销，不再审核" if awaiting else "")
        + "。"
    )


@app.command("complete")
def complete_cmd(
    item_id: Annotated[int, typer.Argument(metavar="ITEM_ID", help="事项编号")],
    evidence: Annotated[str, typer.Option("--evidence", help="佐证网址（公开页面 URL）")],
    note: Annotated[str | None, typer.Option("--note", help="备注")] = None,
    by: Annotated[str | None, typer.Option("--by", help="登记人")] = None,
) -> None:
    """登记事项完成（含佐证网址）。"""
    from workflows.items import complete

    with open_db() as session:
        result = complete(session=session, item_id=item_id, evidence=evidence, note=note, by=by)
        item = result.item
    if result.already_done:
        typer.echo(f"事项 {item_id} 此前已登记完成，本次未作改动。")
    else:
        timing = "按时" if item.on_time else "逾期"
        typer.echo(f"事项 {item_id} 已登记完成（{timing}），佐证：{item.evidence}")


COUNT_ORDER = ("done", "awaiting", "pending", "overdue", "waived")


@app.command("status")
def status_cmd(
    obligation: Annotated[str | None, typer.Option("--obligation", help="事项代码")] = None,
    period: Annotated[str | None, typer.Option("--period")] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="单位名称或别名")] = None,
    district: Annotated[str | None, typer.Option("--district", help="只看该区的单位")] = None,
    today: Annotated[str | None, typer.Option("--today", help="按此日期判断逾期")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """查看事项清单及完成情况（已完成但待审核的事项单独计数，不计入完成）。"""
    from models.checklist import STATUS_LABELS
    from models.directory import find_unit, resolve_district
    from workflows.items import awaiting_review_ids, item_json, query_items
    from workflows.registry import get_obligation
    from zwgk.clock import today_shanghai
    from zwgk.intake.plan.moves import overdue_at_issue

    as_of = parse_day(today, "--today") if today else today_shanghai()
    if obligation:
        ob = get_obligation(obligation)
        if period:
            period = str(ob.parse_period(period))
    from workflows.registry import item_titles

    titles = item_titles()
    with open_db() as session:
        if district:
            district = resolve_district(session=session, district=district, default=None)
        u = find_unit(session=session, name=unit, district=district) if unit else None
        pairs = query_items(
            session=session, obligation=obligation, period=period, unit=u, district=district
        )
        late = overdue_at_issue(session=session, rows=pairs)  # 印发时已逾期
        awaiting = awaiting_review_ids(session=session, items=[i for i, _ in pairs])
        rows = [
            {
                **item_json(i, un, as_of, awaiting_review=i.id in awaiting),
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
                STATUS_LABELS[r["status"]]
                + ("（待审核）" if r["awaiting_review"] else "")
                + ("（印发时已逾期）" if r["overdue_at_issue"] else ""),
                "；".join(notes),
            )
        )
    print_table(["编号", "事项", "期间", "单位", "步骤", "截止日期", "状态", "备注"], table)
    counts: dict[str, int] = {}
    for r in rows:
        key = "awaiting" if r["awaiting_review"] else r["status"]
        counts[key] = counts.get(key, 0) + 1
    summary = "，".join(f"{STATUS_LABELS[k]} {counts[k]}" for k in COUNT_ORDER if k in counts)
    typer.echo(f"共 {len(rows)} 条" + (f"（{summary}）" if rows else "") + "。")
    if late:
        marked = [f"#{r['id']}" for r in rows if r["overdue_at_issue"]]
        ids = "、".join(marked[:20]) + ("等" if len(marked) > 20 else "")
        typer.echo(
            f"其中 {len(late)} 条印发时已逾期（截止日期早于工作要点印发日期）：{ids}；"
            "可用 zwgk plan move-due 确认或调整。"
        )
