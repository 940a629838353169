"""Reports for administrators: progress of checklist items per unit and obligation."""

from zwgk.reports.progress import (
    ItemRow,
    UnitProgress,
    completion_chart_svg,
    completion_series,
    summarize,
    to_csv,
    to_markdown,
    to_xlsx,
)

__all__ = [
    "ItemRow",
    "UnitProgress",
    "completion_chart_svg",
    "completion_series",
    "summarize",
    "to_csv",
    "to_markdown",
    "to_xlsx",
]
