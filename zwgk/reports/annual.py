"""The annual report's tables (年度报告表格), computed from recorded data and checked.

Table 三 (收到和处理政府信息公开申请情况) comes from the application register:

* 本年新收 — received in year Y;
* 上年结转 — received before Y and not answered before Y;
* each outcome row — answered in Y with that outcome;
* 结转下年度 — received by the end of Y and not answered by then.

So 本年新收 + 上年结转 = 办理结果总计 + 结转下年度 holds for register data by construction;
figures typed in by hand (``AnnualFigure``) replace computed cells and are checked the same
way (勾稽关系), cell by cell. Tables 二 and 四 come from hand-entered figures.

The register and the hand figures come in through ``zwgk.intake.register`` and
``zwgk.intake.figures``; the tables' rows and columns are ``models.annual``'s.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from models.annual import (
    APPLICANT_TYPES,
    CARRIED_IN,
    CARRIED_OUT,
    COLUMNS,
    NEW,
    OUTCOMES,
    TABLE2,
    TABLE3_ROWS,
    TABLE4_GROUPS,
    TABLE4_RESULTS,
    TOTAL,
    AnnualFigure,
    Application,
)
from models.directory import list_units
from models.unit import Unit
from zwgk.clock import today_shanghai
from zwgk.errors import UserError
from zwgk.reports.annual_check import Table, check_tables
from zwgk.reports.annual_check import _n as _n  # annual_docx formats figures with it
from zwgk.reports.annual_work import YearWork, year_work

GROUP_NUMERALS = ("一", "二", "三", "四", "五", "六", "七")


def empty_table3() -> Table:
    return {row: {c: 0 for c in COLUMNS} for row in TABLE3_ROWS}


def table3_from_register(apps: list[Application], year: int) -> Table:
    start, end = date(year, 1, 1), date(year, 12, 31)
    t = empty_table3()
    for a in apps:
        col_ = a.applicant_type
        if start <= a.received <= end:
            t[NEW][col_] += 1
        elif a.received < start and (a.replied is None or a.replied >= start):
            t[CARRIED_IN][col_] += 1
        if a.replied is not None and start <= a.replied <= end and a.outcome and a.received <= end:
            t[a.outcome][col_] += 1
        if a.received <= end and (a.replied is None or a.replied > end):
            t[CARRIED_OUT][col_] += 1
    fill_totals(t)
    return t


def fill_totals(t: Table) -> None:
    """总计 column and 办理结果总计 row, computed (before hand figures are laid over)."""
    for row in t:
        t[row]["总计"] = sum(t[row][c] for c in APPLICANT_TYPES)
    for c in COLUMNS:
        t[TOTAL][c] = sum(t[o][c] for o in OUTCOMES)


@dataclass
class AnnualReport:
    year: int
    scope: str  # unit or district name
    units: list[str]
    table2: Table
    table3: Table
    table4: Table
    errors: list[str] = field(default_factory=list)
    district: str = ""
    # Last year's tables 三 and 四 where last year has data (the comparison in section 一).
    previous3: Table | None = None
    previous4: Table | None = None
    has_data: bool = True  # any register entry or hand figure for the year
    # The year's overdue items, returned submissions and plan progress (sections 五 and 六).
    work: YearWork | None = None

    def as_json(self) -> dict[str, Any]:
        def clean(t: Table) -> dict[str, dict[str, float]]:
            return {
                r: {c: (int(v) if float(v).is_integer() else v) for c, v in cols.items()}
                for r, cols in t.items()
            }

        return {
            "year": self.year,
            "scope": self.scope,
            "units": self.units,
            "table2": clean(self.table2),
            "table3": clean(self.table3),
            "table4": clean(self.table4),
            "consistency": {"ok": not self.errors, "errors": self.errors},
        }


def _figures(
    session: Session, unit_ids: list[int | None], year: int
) -> dict[tuple[int | None, str], Table]:
    out: dict[tuple[int | None, str], Table] = defaultdict(lambda: defaultdict(dict))
    for f in session.exec(
        select(AnnualFigure).where(
            col(AnnualFigure.unit_id).in_(unit_ids), AnnualFigure.year == year
        )
    ):
        out[(f.unit_id, f.table)][f.row][f.col] = f.value
    return out


def unit_tables(session: Session, unit: Unit, year: int) -> tuple[Table, Table, Table, bool]:
    """(table2, table3, table4, whether the year has any table-3 data) for one unit."""
    apps = list(session.exec(select(Application).where(Application.unit_id == unit.id)))
    t3 = table3_from_register(apps, year)
    figs = _figures(session, [unit.id], year)
    hand3 = figs.get((unit.id, "table3"), {})
    for row, cols in hand3.items():
        for c, v in cols.items():
            t3[row][c] = v
    t2 = {
        r: {c: figs.get((unit.id, "table2"), {}).get(r, {}).get(c, 0) for c in cols}
        for r, cols in TABLE2
    }
    t4: Table = {g: {r: 0 for r in TABLE4_RESULTS} for g in TABLE4_GROUPS}
    for g, cols in figs.get((unit.id, "table4"), {}).items():
        for r, v in cols.items():
            t4[g][r] = v
    hand4 = figs.get((unit.id, "table4"), {})
    for g in TABLE4_GROUPS:
        if "总计" not in hand4.get(g, {}):
            t4[g]["总计"] = sum(t4[g][r] for r in TABLE4_RESULTS[:-1])
    has_data = bool(hand3) or any(a.received <= date(year, 12, 31) for a in apps)
    return t2, t3, t4, has_data


def _add(into: Table, t: Table) -> None:
    for r, cols in t.items():
        for c, v in cols.items():
            into.setdefault(r, {}).setdefault(c, 0)
            into[r][c] += v


def build_report(
    *,
    session: Session,
    year: int,
    unit: Unit | None = None,
    district: str | None = None,
    titles: Mapping[str, str] | None = None,
    today: date | None = None,
) -> AnnualReport:
    """The tables of one unit's report, or a district's (the sum of its units), checked, with
    the year's work for sections 五 and 六 (``titles``: each obligation's Chinese title, from
    ``workflows.registry.item_titles``; ``today``: the day overdue is judged by)."""
    if unit is not None:
        units, scope = [unit], unit.name
    else:
        units = list_units(session=session, district=district)
        if not units:
            raise UserError(f"单位名录中没有「{district}」的单位")
        scope = district or units[0].district
    t2: Table = {}
    t3: Table = {}
    t4: Table = {}
    prev3: Table = {}
    prev4: Table = {}
    prev_known = False
    has_data = False
    errors: list[str] = []
    for u in units:
        a2, a3, a4, known = unit_tables(session, u, year)
        has_data = has_data or known or bool(_figures(session, [u.id], year))
        _add(t2, a2)
        _add(t3, a3)
        _add(t4, a4)
        # Last year's 结转下年度 is compared only where last year has data at all.
        _, p3, p4, p_known = unit_tables(session, u, year - 1)
        _add(prev3, p3)
        _add(prev4, p4)
        prev_known = prev_known or p_known
        if unit is None:  # a district report names the unit each problem comes from
            problems = check_tables(a3, a4, p3[CARRIED_OUT] if p_known else None)
            errors += [f"{u.name}：{e}" for e in problems]
    if unit is not None:
        errors += check_tables(t3, t4, prev3[CARRIED_OUT] if prev_known else None)
    work = year_work(
        session=session,
        units=units,
        year=year,
        district=units[0].district,
        titles=titles or {},
        today=today or today_shanghai(),
    )
    return AnnualReport(
        year,
        scope,
        [u.name for u in units],
        t2,
        t3,
        t4,
        errors,
        district=units[0].district,
        previous3=prev3 if prev_known else None,
        previous4=prev4 if prev_known else None,
        has_data=has_data,
        work=work,
    )
