"""Obligation periods: ``YYYY-MM`` (monthly), ``YYYY-Qn`` (quarterly), ``YYYY`` (yearly)."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from zwgk.errors import UserError


class Cadence(StrEnum):
    monthly = "monthly"
    quarterly = "quarterly"
    yearly = "yearly"


# ASCII digits only: ``\d`` would take ٢٠٢٦ (and int() read it as 2026).
_FORMS = {
    Cadence.monthly: ("YYYY-MM", "2026-11", re.compile(r"^([0-9]{4})-([0-9]{2})$")),
    Cadence.quarterly: ("YYYY-Qn", "2026-Q4", re.compile(r"^([0-9]{4})-[Qq]([1-4])$")),
    Cadence.yearly: ("YYYY", "2026", re.compile(r"^([0-9]{4})$")),
}

QUARTER_NUMERALS = "一二三四"

CADENCE_LABELS = {Cadence.monthly: "每月", Cadence.quarterly: "每季度", Cadence.yearly: "每年"}


@dataclass(frozen=True, order=True)
class Period:
    """One occurrence of an obligation: a month, a quarter or a year."""

    cadence: Cadence
    year: int
    index: int = 0  # month 1–12 or quarter 1–4; 0 for a year

    @classmethod
    def parse(cls, text: str, cadence: Cadence) -> Period:
        form, example, pattern = _FORMS[cadence]
        m = pattern.match(text.strip()) if text else None
        if not m:
            raise UserError(
                f"期间「{text}」格式不对：本事项按{CADENCE_LABELS[cadence]}，应写作 {form}（如 {example}）"
            )
        year = int(m.group(1))
        if not 2000 <= year <= 2100:
            raise UserError(f"期间「{text}」的年份 {year} 超出范围（2000–2100）")
        index = int(m.group(2)) if cadence != Cadence.yearly else 0
        if cadence == Cadence.monthly and not 1 <= index <= 12:
            raise UserError(f"期间「{text}」的月份 {index} 无效，应为 01–12")
        return cls(cadence, year, index)

    @classmethod
    def containing(cls, d: date, cadence: Cadence) -> Period:
        if cadence == Cadence.monthly:
            return cls(cadence, d.year, d.month)
        if cadence == Cadence.quarterly:
            return cls(cadence, d.year, (d.month - 1) // 3 + 1)
        return cls(cadence, d.year)

    def previous(self) -> Period:
        """The period just before this one: December of the year before for a January,
        the fourth quarter of the year before for a first quarter."""
        if self.cadence == Cadence.yearly:
            return Period(self.cadence, self.year - 1)
        if self.index > 1:
            return Period(self.cadence, self.year, self.index - 1)
        return Period(self.cadence, self.year - 1, 12 if self.cadence == Cadence.monthly else 4)

    @property
    def start(self) -> date:
        if self.cadence == Cadence.monthly:
            return date(self.year, self.index, 1)
        if self.cadence == Cadence.quarterly:
            return date(self.year, 3 * self.index - 2, 1)
        return date(self.year, 1, 1)

    @property
    def end(self) -> date:
        if self.cadence == Cadence.monthly:
            return month_end(self.year, self.index)
        if self.cadence == Cadence.quarterly:
            return month_end(self.year, 3 * self.index)
        return date(self.year, 12, 31)

    def __str__(self) -> str:
        if self.cadence == Cadence.monthly:
            return f"{self.year}-{self.index:02d}"
        if self.cadence == Cadence.quarterly:
            return f"{self.year}-Q{self.index}"
        return f"{self.year}"

    @property
    def label(self) -> str:
        """Chinese label: 2026年11月 / 2026年第四季度 / 2026年度."""
        if self.cadence == Cadence.monthly:
            return f"{self.year}年{self.index}月"
        if self.cadence == Cadence.quarterly:
            return f"{self.year}年第{QUARTER_NUMERALS[self.index - 1]}季度"
        return f"{self.year}年度"


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])
