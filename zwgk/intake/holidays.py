"""Import administrator overrides of the working-day calendar (节假日安排)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlmodel import Session

from models.calendar import HolidayOverride
from workflows.workcal import HOLIDAY, WORKDAY
from zwgk.errors import clip, refused
from zwgk.intake.tabular import parse_date as _parse_date
from zwgk.intake.tabular import read_csv_rows

KIND_WORDS = {
    "holiday": HOLIDAY,
    "放假": HOLIDAY,
    "休": HOLIDAY,
    "假": HOLIDAY,
    "节假日": HOLIDAY,
    "workday": WORKDAY,
    "上班": WORKDAY,
    "班": WORKDAY,
    "调休上班": WORKDAY,
    "工作日": WORKDAY,
}


def parse_date(value: str) -> date:
    """YYYY-MM-DD, also YYYY/MM/DD as Excel may write it (years FIRST_YEAR–LAST_YEAR).

    Raises ValueError (Chinese reason) for anything else, an empty cell included.
    """
    day = _parse_date(value)
    if day is None:
        raise ValueError("日期为空")
    return day


def import_overrides(*, session: Session, path: Path) -> int:
    """Upsert every row of ``path`` (columns date,kind,name); all or nothing."""
    rows = read_csv_rows(path, ("date", "kind"), ("name",))
    errors: list[str] = []
    seen: dict[date, int] = {}
    clean: list[HolidayOverride] = []
    for rowno, row in rows:
        try:
            day = parse_date(row["date"])
        except ValueError as exc:
            errors.append(f"文件 {path} 第 {rowno} 行，字段「date」：{exc}")
            continue
        kind = KIND_WORDS.get(row["kind"].strip().lower())
        if kind is None:
            errors.append(
                f"文件 {path} 第 {rowno} 行，字段「kind」：「{clip(row['kind'])}」应为 holiday 或 workday"
            )
            continue
        if day in seen:
            errors.append(f"文件 {path} 第 {rowno} 行，字段「date」：{day} 与第 {seen[day]} 行重复")
            continue
        seen[day] = rowno
        clean.append(HolidayOverride(day=day, kind=kind, name=row.get("name", "")))
    if not rows:
        errors.append(f"文件 {path}：表头之后没有任何日期")
    if errors:
        raise refused("节假日文件", errors)
    for o in clean:
        session.merge(o)
    return len(clean)
