"""The checks a reviewer makes of an annual report's tables (勾稽关系), cell by cell.

Every relation of tables 三 and 四 is written as a sum that must come to nothing:

* each row of 表三: 总计 = 自然人 + the five 法人或其他组织 columns;
* each column of 表三: （七）总计 = the sum of the outcome rows （一）…（六）;
* each column of 表三: 一、本年新收 + 二、上年结转 = （七）总计 + 四、结转下年度继续办理;
* each row of 表四: 总计 = 结果维持 + 结果纠正 + 其他结果 + 尚未审结;
* with last year's figures: this year's 二、上年结转 = last year's 四、结转下年度继续办理.

A failed relation is named by its cells as printed (``models.annual.cell_label``). One wrong
cell breaks every relation it sits in and no other; when a single cell of this year's tables
explains every failure by the same amount, that cell is reported once, with the value the
relations call for, instead of each relation it broke.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from models.annual import (
    APPLICANT_TYPES,
    CARRIED_IN,
    CARRIED_OUT,
    COLUMNS,
    NEW,
    OUTCOMES,
    TABLE3_ROWS,
    TABLE4_GROUPS,
    TABLE4_RESULTS,
    TOTAL,
    cell_label,
)

Table = dict[str, dict[str, float]]
CellKey = tuple[str, str, str]  # (table2|table3|table4, row, col) of the year checked


def _n(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


@dataclass(frozen=True)
class Relation:
    """One 勾稽 relation: the sum of coefficient × cell, which must be 0 (``residual``),
    and the Chinese sentence that says how it fails."""

    terms: tuple[tuple[CellKey, int], ...]
    residual: float
    message: str

    @property
    def failed(self) -> bool:
        return abs(self.residual) > 1e-9


def table_relations(
    t3: Table, t4: Table, previous_carried_out: Mapping[str, float] | None = None
) -> list[Relation]:
    """Every relation of one unit's (or a district's) tables 三 and 四 for a year, in the
    order a reviewer reads them; the carry-over ones only with last year's figures."""
    out = []
    for row in TABLE3_ROWS:
        s = sum(t3[row][c] for c in APPLICANT_TYPES)
        out.append(
            Relation(
                (
                    (("table3", row, "总计"), 1),
                    *((("table3", row, c), -1) for c in APPLICANT_TYPES),
                ),
                t3[row]["总计"] - s,
                f"{cell_label('table3', row, '总计')}为 {_n(t3[row]['总计'])}，"
                f"但自然人与法人或其他组织各列之和为 {_n(s)}",
            )
        )
    for c in COLUMNS:
        s = sum(t3[o][c] for o in OUTCOMES)
        out.append(
            Relation(
                ((("table3", TOTAL, c), 1), *((("table3", o, c), -1) for o in OUTCOMES)),
                t3[TOTAL][c] - s,
                f"{cell_label('table3', TOTAL, c)}为 {_n(t3[TOTAL][c])}，"
                f"但（一）至（六）各项办理结果之和为 {_n(s)}",
            )
        )
        left, right = t3[NEW][c] + t3[CARRIED_IN][c], t3[TOTAL][c] + t3[CARRIED_OUT][c]
        out.append(
            Relation(
                (
                    (("table3", NEW, c), 1),
                    (("table3", CARRIED_IN, c), 1),
                    (("table3", TOTAL, c), -1),
                    (("table3", CARRIED_OUT, c), -1),
                ),
                left - right,
                f"表三「{c}」列：一、本年新收 {_n(t3[NEW][c])} + 二、上年结转 "
                f"{_n(t3[CARRIED_IN][c])} = {_n(left)}，不等于 三、本年度办理结果（七）总计 "
                f"{_n(t3[TOTAL][c])} + 四、结转下年度继续办理 {_n(t3[CARRIED_OUT][c])} = {_n(right)}",
            )
        )
    for g in TABLE4_GROUPS:
        s = sum(t4[g][r] for r in TABLE4_RESULTS[:-1])
        out.append(
            Relation(
                (
                    (("table4", g, "总计"), 1),
                    *((("table4", g, r), -1) for r in TABLE4_RESULTS[:-1]),
                ),
                t4[g]["总计"] - s,
                f"{cell_label('table4', g, '总计')}为 {_n(t4[g]['总计'])}，"
                f"但结果维持、结果纠正、其他结果、尚未审结之和为 {_n(s)}",
            )
        )
    if previous_carried_out is not None:
        for c in COLUMNS:
            before = previous_carried_out.get(c, 0)
            out.append(
                Relation(
                    ((("table3", CARRIED_IN, c), 1),),
                    t3[CARRIED_IN][c] - before,
                    f"{cell_label('table3', CARRIED_IN, c)}为 {_n(t3[CARRIED_IN][c])}，"
                    f"但上一年度表三「四、结转下年度继续办理」行「{c}」列为 {_n(before)}",
                )
            )
    return out


def single_wrong_cell(
    relations: list[Relation], value: Mapping[CellKey, float]
) -> tuple[CellKey, float] | None:
    """(cell, the value the relations call for) when one cell of the year checked explains
    every failed relation by the same amount and sits in no relation that holds; else None
    (no failure, several wrong cells, or a failure no single cell explains)."""
    failing = [r for r in relations if r.failed]
    if not failing:
        return None
    holding = {k for r in relations if not r.failed for k, _c in r.terms}
    common = set.intersection(*({k for k, _c in r.terms} for r in failing)) - holding
    found = []
    for k in common:
        shifts = {round(r.residual / dict(r.terms)[k], 9) for r in failing}
        if len(shifts) == 1:
            right = value[k] - shifts.pop()
            if right >= 0:
                found.append((k, right))
    return found[0] if len(found) == 1 else None


def check_tables(
    t3: Table, t4: Table, previous_carried_out: Mapping[str, float] | None = None
) -> list[str]:
    """Every failure of the tables' relations, in Chinese, cells named as printed; one
    sentence for a single wrong cell that explains them all."""
    relations = table_relations(t3, t4, previous_carried_out)
    failing = [r for r in relations if r.failed]
    values = {
        (table, row, c): v
        for table, t in (("table3", t3), ("table4", t4))
        for row, cols in t.items()
        for c, v in cols.items()
    }
    one = single_wrong_cell(relations, values)
    if one is None:
        return [r.message for r in failing]
    (table, row, c), right = one
    return [
        f"{cell_label(table, row, c)}为 {_n(values[(table, row, c)])}，按勾稽关系应为 {_n(right)}"
        f"（{'；'.join(r.message for r in failing)}）"
    ]
