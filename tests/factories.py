"""Factories for units, directories and files used across the tests."""

from __future__ import annotations

import csv
from pathlib import Path

HEADER = ["name", "aliases", "kind", "email", "contact", "groups"]

SMALL_DIRECTORY = [
    ["区政府办公室", "区政府办|区政务公开办", "office", "gkb@test.example.gov.cn", "王静", ""],
    ["区发展改革委", "区发改委", "department", "fgw@test.example.gov.cn", "李明", ""],
    ["区教育局", "", "department", "jyj@test.example.gov.cn", "陈丽", ""],
    ["华阳路街道", "", "street", "hyl@test.example.gov.cn", "蔡琳", ""],
    ["新泾镇", "", "town", "xjz@test.example.gov.cn", "邹洁", ""],
]


def write_units_csv(
    path: Path,
    rows: list[list[str]] | None = None,
    *,
    header: list[str] | None = None,
    encoding: str = "utf-8",
    newline: str = "\n",
) -> Path:
    rows = SMALL_DIRECTORY if rows is None else rows
    with path.open("w", encoding=encoding, newline="") as f:
        w = csv.writer(f, lineterminator=newline)
        w.writerow(header or HEADER)
        w.writerows(rows)
    return path


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def queue_messages(n: int = 3, recipient: str = "unit{}@test.example.gov.cn") -> list[int]:
    """Put ``n`` assignment mails in the outbox (subject "… 第i号"); returns their ids."""
    from models import OutboxMessage
    from notifications.outbox import enqueue
    from zwgk.db import session_scope

    ids = []
    with session_scope() as s:
        for i in range(n):
            msg = OutboxMessage(
                key=f"test:{i}",
                recipient=recipient.format(i),
                obligation="monthly-filing",
                period="2026-11",
                kind="assignment",
                subject=f"【政务公开】新增非密公文全量备案 第{i}号",
                body_text=f"正文 {i}",
                body_html=f"<p>正文 {i}</p>",
            )
            enqueue(session=s, message=msg)
            s.flush()
            ids.append(msg.id)
    return ids  # type: ignore[return-value]


PLAN_HEADER = ["序号", "任务名称", "具体内容", "责任单位", "完成时间"]


def import_plan_rows(
    folder: Path,
    district: str,
    rows: list[list[str]],
    *,
    year: int = 2026,
    issued: str = "2026-03-02",
) -> None:
    """Import a small 任务分解表 (rows of 序号, 任务名称, 具体内容, 责任单位, 完成时间)."""
    from datetime import date

    from workflows.workcal import load_calendar
    from zwgk.db import session_scope
    from zwgk.intake.plan.importer import import_plan

    path = write_csv(folder / f"要点-{district}.csv", PLAN_HEADER, rows)
    with session_scope() as s:
        import_plan(
            session=s,
            path=path,
            district=district,
            year=year,
            issued=date.fromisoformat(issued),
            cal=load_calendar(s),
        )
