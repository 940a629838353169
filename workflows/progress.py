"""Where obligations stand: rows for the progress report, and Prefect artifacts per run.

The artifacts of a run come from aggregates (one ``GROUP BY`` of the items by unit and
status, the completion times streamed and counted per day), never from loading the items:
a large district's plan has 100,000 of them and more.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from models.checklist import ChecklistItem, ItemStatus
from models.unit import Unit
from notifications.render import cn_day, cn_period
from workflows.items import awaiting_review_ids, derived_status, query_items
from workflows.registry import item_titles
from zwgk.clock import as_utc
from zwgk.reports.assessment import AWAITING, ITEMS, join_awaiting
from zwgk.reports.progress import (
    ItemRow,
    UnitProgress,
    behind_markdown,
    completion_chart_svg,
    series_from_counts,
    shanghai_date,
)

UNITS_SHOWN = 20  # units behind listed in a run's artifact (the rest are counted)


def item_rows(
    *,
    session: Session,
    today: date,
    obligation: str | None = None,
    period: str | None = None,
    district: str | None = None,
) -> list[ItemRow]:
    """Every item (of an obligation / period / district) as the report's rows, status as of
    ``today``."""
    titles = item_titles()
    pairs = query_items(session=session, obligation=obligation, period=period, district=district)
    awaiting = awaiting_review_ids(session=session, items=[i for i, _ in pairs])
    return [
        ItemRow(
            id=item.id,  # type: ignore[arg-type]
            obligation=item.obligation,
            obligation_title=titles.get(item.obligation, item.obligation),
            period=item.period,
            unit=unit.name,
            step=item.step,
            step_title=item.step_title,
            role=str(item.role),
            due=item.due,
            status=derived_status(item, today),
            completed_at=as_utc(item.completed_at),
            on_time=item.on_time,
            awaiting_review=item.id in awaiting,
        )
        for item, unit in pairs
    ]


def _scope(stmt: Any, obligation: str, period: str) -> Any:
    return stmt.where(ChecklistItem.obligation == obligation).where(ChecklistItem.period == period)


def unit_progress(
    *, session: Session, obligation: str, period: str, today: date
) -> list[UnitProgress]:
    """Status counts per unit of an obligation period, as of ``today``, from one ``GROUP BY``
    (units of several districts named apart by their district)."""
    title = item_titles().get(obligation, obligation)
    late = col(ChecklistItem.due) < today
    key = (Unit.district, Unit.name, ChecklistItem.status, late, ChecklistItem.on_time, AWAITING)
    stmt = _scope(
        # sqlmodel's select is typed for at most four columns; this is seven.
        join_awaiting(
            select(*key, ITEMS).join(  # type: ignore[call-overload]
                Unit, col(Unit.id) == col(ChecklistItem.unit_id)
            )
        ),
        obligation,
        period,
    ).group_by(*key)
    rows = session.exec(stmt).all()
    # Done items without a recorded verdict (from before it was kept): judged by the date;
    # those awaiting review are counted as 待审核 above, not here again.
    unjudged = session.exec(
        _scope(
            join_awaiting(
                select(
                    col(Unit.district),
                    col(Unit.name),
                    col(ChecklistItem.due),
                    col(ChecklistItem.completed_at),
                ).join(Unit, col(Unit.id) == col(ChecklistItem.unit_id))
            )
            .where(ChecklistItem.status == ItemStatus.done)
            .where(col(ChecklistItem.on_time).is_(None))
            .where(~AWAITING),
            obligation,
            period,
        )
    ).all()
    several = len({r[0] for r in rows}) > 1
    units: dict[tuple[str, str], UnitProgress] = {}

    def of(district: str, name: str) -> UnitProgress:
        p = units.get((district, name))
        if p is None:
            label = f"{district}{name}" if several else name
            p = units[(district, name)] = UnitProgress(label, obligation, title)
        return p

    for district, name, status, is_late, on_time, awaiting, n in rows:
        of(district, name).tally(status, past_due=is_late, on_time=on_time, n=n, awaiting=awaiting)
    for district, name, due, completed in unjudged:
        of(district, name).tally_by_date(due, as_utc(completed))
    return sorted(units.values(), key=lambda p: p.unit)


def done_per_day(*, session: Session, obligation: str, period: str) -> dict[date, int]:
    """How many items were done on each Asia/Shanghai day (times streamed, not kept); those
    awaiting review (待审核) are not done yet."""
    stmt = _scope(
        join_awaiting(select(ChecklistItem.completed_at))
        .where(ChecklistItem.status == ItemStatus.done)
        .where(~AWAITING)
        .where(col(ChecklistItem.completed_at).is_not(None)),
        obligation,
        period,
    ).execution_options(yield_per=5000)
    return dict(Counter(shanghai_date(as_utc(t)) for t in session.exec(stmt)))  # type: ignore[arg-type]


def progress_bar(done: int, total: int, width: int = 20) -> str:
    if total <= 0:
        return "—"
    filled = round(width * done / total)
    return "█" * filled + "░" * (width - filled) + f" {done}/{total}（{100 * done // total}%）"


def publish_artifacts(
    *, session: Session, obligation: str, period: str, today: date, var_dir: Path
) -> str | None:
    """A Markdown table and a progress figure as Prefect artifacts; the SVG chart to var/reports/.

    Returns the chart's path. Does nothing outside a flow run.
    """
    # Prefect only inside a flow run (the CLI's progress report needs none of it).
    from prefect.artifacts import create_markdown_artifact, create_progress_artifact
    from prefect.context import FlowRunContext

    if FlowRunContext.get() is None:
        return None
    summary = unit_progress(session=session, obligation=obligation, period=period, today=today)
    name = item_titles().get(obligation, obligation)
    title = f"{name}（{cn_period(period)}）完成情况（截至{cn_day(today)}）"
    done = sum(p.done for p in summary)
    counted = sum(p.total - p.waived for p in summary)
    markdown = (
        behind_markdown(summary, title=title, limit=UNITS_SHOWN)
        + f"\n\n**总体进度** {progress_bar(done, counted)}\n"
    )
    key = f"{obligation}-{period}".lower().replace("_", "-")
    create_markdown_artifact(markdown=markdown, key=f"progress-{key}", description=title)
    create_progress_artifact(
        progress=(100.0 * done / counted) if counted else 100.0,
        key=f"completion-{key}",
        description=title,
    )
    if not summary:
        return None
    first_due = session.exec(_scope(select(func.min(ChecklistItem.due)), obligation, period)).one()
    start = min(today, first_due) - timedelta(days=30)
    per_day = done_per_day(session=session, obligation=obligation, period=period)
    series = series_from_counts(per_day, total=counted, start=start, end=max(today, start))
    svg = completion_chart_svg({name: series}, title=title)
    out = var_dir / "reports" / f"completion-{key}.svg"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(svg, encoding="utf-8")
    return str(out)
