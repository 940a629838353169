"""The report files, built once for both the CLI (``zwgk report …``) and the workbench
(``/admin/reports/…``): the progress summary, the annual report draft and the 通报.

Each builder returns a :class:`Document`: the bytes, a Chinese file name (what a browser
saves), an ASCII one (for old browsers) and a one-line summary the CLI prints. The CLI
writes ``data`` to ``--out``; the workbench sends it as an attachment. So the two give the
same file for the same data and the same day.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from sqlmodel import Session

from models.directory import find_unit, resolve_district
from notifications.render import cn_day, cn_period
from workflows.progress import item_rows
from workflows.registry import get_obligation, item_titles
from zwgk.config import Settings
from zwgk.errors import UserError

if TYPE_CHECKING:
    from zwgk.reports.assessment import Rules
    from zwgk.reports.bulletin import Bulletin

PROGRESS_FORMATS = ("xlsx", "csv", "md")
ANNUAL_FORMATS = ("md", "docx", "json")
BULLETIN_FORMATS = ("docx", "xlsx", "md")

CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "csv": "text/csv; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "json": "application/json",
}


class NothingToReport(UserError):
    """The query is well formed but selects nothing (the CLI exits 1, the web says 404)."""

    exit_code = 1


@dataclass(frozen=True)
class Document:
    """A report file: its bytes and what to call it."""

    data: bytes
    fmt: str
    filename: str  # Chinese, what the user sees
    ascii_name: str  # fallback for browsers without RFC 5987
    summary: str = ""  # e.g. "12 个事项", printed by the CLI after 已写入
    warnings: list[str] = field(default_factory=list)

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.fmt]

    @property
    def text(self) -> str:
        """The document as text (md, csv, json), without a byte-order mark."""
        return self.data.decode("utf-8-sig")


def _check_format(fmt: str, allowed: tuple[str, ...]) -> None:
    if fmt not in allowed:
        raise UserError(f"格式「{fmt}」无效，应为 {'、'.join(allowed)}")


def progress_document(
    *,
    session: Session,
    fmt: str,
    period: str,
    today: date,
    obligation: str | None = None,
    district: str | None = None,
) -> Document:
    """各单位完成情况汇总 (``zwgk report progress``) for one period (and obligation, and
    district), status as of ``today``."""
    from zwgk.reports.progress import to_csv, to_markdown, to_xlsx

    _check_format(fmt, PROGRESS_FORMATS)
    period = (period or "").strip()
    if not period:
        raise UserError("请指定期间，如 2026-11、2026-Q4 或 2026")
    title_prefix = "政务公开事项"
    if obligation:
        ob = get_obligation(obligation)
        period = str(ob.parse_period(period))
        title_prefix = ob.title
    if district:
        district = resolve_district(session=session, district=district, default=None)
    rows = item_rows(
        session=session, today=today, obligation=obligation, period=period, district=district
    )
    if not rows:
        raise NothingToReport(
            (f"{district}" if district else "")
            + f"{cn_period(period)}"
            + (f"没有「{title_prefix}」的事项" if obligation else "没有任何事项")
        )
    scope = district or ""
    title = f"{scope}{cn_period(period)}{title_prefix}完成情况（截至{cn_day(today)}）"
    if fmt == "md":
        data = to_markdown(rows, title=title).encode("utf-8")
    elif fmt == "csv":
        data = to_csv(rows)
    else:
        data = to_xlsx(rows)
    slug = "-".join(x for x in ("progress", obligation, period) if x)
    return Document(
        data,
        fmt,
        filename=f"{scope}{title_prefix}{cn_period(period)}完成情况.{fmt}",
        ascii_name=f"{slug}.{fmt}",
        summary=f"{len(rows)} 个事项",
    )


def annual_document(
    *,
    session: Session,
    fmt: str,
    year: int,
    unit: str | None = None,
    district: str | None = None,
) -> Document:
    """The annual report draft (``zwgk report annual``): one unit's, or a district's."""
    from zwgk.reports.annual import build_report
    from zwgk.reports.annual_docx import to_docx, to_markdown

    _check_format(fmt, ANNUAL_FORMATS)
    if unit and district:
        raise UserError("单位和区只能选一个")
    if not 2000 <= year <= 2100:
        raise UserError(f"年度 {year} 超出范围（2000–2100）")
    if unit:
        report = build_report(
            session=session,
            year=year,
            unit=find_unit(session=session, name=unit),
            titles=item_titles(),
        )
    else:
        d = resolve_district(session=session, district=district, default=None)
        report = build_report(session=session, year=year, district=d, titles=item_titles())
    if fmt == "json":
        data = json.dumps(report.as_json(), ensure_ascii=False, indent=2).encode()
    elif fmt == "md":
        data = to_markdown(report).encode()
    else:
        data = to_docx(report)
    warnings = []
    if report.errors:
        warnings.append(
            f"勾稽关系校验发现 {len(report.errors)} 处问题：\n" + "\n".join(report.errors[:20])
        )
    return Document(
        data,
        fmt,
        filename=f"{report.scope}{year}年政府信息公开工作年度报告（草稿）.{fmt}",
        ascii_name=f"annual-report-{year}.{fmt}",
        warnings=warnings,
    )


def district_rules(*, district: str, settings: Settings, rules: Path | None = None) -> Rules:
    """The 考评标准 ``district``'s 通报 and 考核 are scored by: the file ``rules`` when given,
    else the district's own in the data folder, else the default (``assessment.rules_for``)."""
    from zwgk.reports.assessment import load_rules, rules_for

    return load_rules(rules_for(district, settings.var_dir, rules), known=set(item_titles()))


def district_bulletin(
    *,
    session: Session,
    period: str,
    today: date,
    settings: Settings,
    district: str | None = None,
    rules: Path | None = None,
) -> Bulletin:
    """The 通报 of ``district`` (the configured or only one when None) for ``period``
    (2026-11, 2026-Q4, 2026) as of ``today``, scored by the district's 考评标准."""
    from zwgk.reports.bulletin import build_bulletin, parse_period

    p = parse_period(period)
    d = resolve_district(session=session, district=district, default=settings.default_district)
    return build_bulletin(
        session=session,
        period=p,
        district=d,
        today=today,
        office=settings.office_for(d),
        rules=district_rules(district=d, settings=settings, rules=rules),
        titles=item_titles(),
    )


def bulletin_document(
    *,
    session: Session,
    fmt: str,
    period: str,
    today: date,
    settings: Settings,
    district: str | None = None,
    rules: Path | None = None,
) -> Document:
    """The 通报 (``zwgk report bulletin``) of the items due in a month, quarter or year."""
    from zwgk.reports.bulletin import to_markdown, to_xlsx
    from zwgk.reports.bulletin_docx import to_docx

    _check_format(fmt, BULLETIN_FORMATS)
    b = district_bulletin(
        session=session,
        period=period,
        today=today,
        settings=settings,
        district=district,
        rules=rules,
    )
    d, p = b.district, b.period
    warnings = [] if b.ranking else [f"{d}{p.label}没有到期的事项，通报中只有说明。"]
    if fmt == "md":
        data = to_markdown(b).encode("utf-8")
    elif fmt == "xlsx":
        data = to_xlsx(b)
    else:
        data = to_docx(b)
    return Document(
        data,
        fmt,
        filename=f"{d}{b.title}.{fmt}",
        ascii_name=f"bulletin-{p}.{fmt}",
        summary=f"{b.title}，{len(b.ranking)} 个单位",
        warnings=warnings,
    )
