"""Where obligations stand: rows for the progress report, and Prefect artifacts per run."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from sqlmodel import Session

from notifications.render import cn_day, cn_period
from workflows.items import derived_status, query_items
from workflows.registry import item_titles
from zwgk.clock import as_utc
from zwgk.reports.progress import (
    ItemRow,
    completion_chart_svg,
    completion_series,
    to_markdown,
)


def item_rows(
    *, session: Session, today: date, obligation: str | None = None, period: str | None = None
) -> list[ItemRow]:
    """Every item (of an obligation / period) as the report's rows, status as of ``today``."""
    titles = item_titles()
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
        )
        for item, unit in query_items(session=session, obligation=obligation, period=period)
    ]


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
    from prefect.artifacts import create_markdown_artifact, create_progress_artifact
    from prefect.context import FlowRunContext

    if FlowRunContext.get() is None:
        return None
    rows = item_rows(session=session, today=today, obligation=obligation, period=period)
    title = f"{item_titles().get(obligation, obligation)}（{cn_period(period)}）完成情况（截至{cn_day(today)}）"
    done = sum(1 for r in rows if r.status == "done")
    counted = sum(1 for r in rows if r.status != "waived")
    markdown = to_markdown(rows, title=title) + f"\n\n**总体进度** {progress_bar(done, counted)}\n"
    key = f"{obligation}-{period}".lower().replace("_", "-")
    create_markdown_artifact(markdown=markdown, key=f"progress-{key}", description=title)
    create_progress_artifact(
        progress=(100.0 * done / counted) if counted else 100.0,
        key=f"completion-{key}",
        description=title,
    )
    if not rows:
        return None
    start = min(today, min(r.due for r in rows)) - timedelta(days=30)
    series = completion_series(rows, start=start, end=max(today, start))
    svg = completion_chart_svg({item_titles().get(obligation, obligation): series}, title=title)
    out = var_dir / "reports" / f"completion-{key}.svg"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(svg, encoding="utf-8")
    return str(out)
