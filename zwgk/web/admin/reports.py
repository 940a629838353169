"""Reports from the workbench (/admin/reports): the progress summary (XLSX, CSV), the annual
report draft (DOCX) and the 通报 (DOCX, XLSX), the same files ``zwgk report …`` writes
(:mod:`workflows.documents` builds both), scoped to the account's district. Viewers may
download: reading is all a download does.

``/admin/reports/progress.xlsx?obligation=SLUG&period=P[&district=D]`` (or ``.csv``),
``/admin/reports/annual.docx?year=Y[&district=D]``,
``/admin/reports/bulletin.docx?period=P[&district=D]`` (or ``.xlsx``); the page
``/admin/reports`` has a form for each (plain GET forms, which also accept ``format=``).
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from models.checklist import ChecklistItem
from models.directory import districts
from models.unit import Unit
from notifications.render import cn_period
from workflows.documents import (
    NothingToReport,
    annual_document,
    bulletin_document,
    progress_document,
)
from workflows.registry import REGISTRY
from zwgk.clock import today_shanghai
from zwgk.config import get_settings
from zwgk.db import session_scope
from zwgk.errors import UserError
from zwgk.reports.bulletin import PERIOD_RE
from zwgk.web.admin.common import Principal, page, refusal, view
from zwgk.web.files import download_response
from zwgk.web.limits import small_int

FORMATS = {"progress": ("xlsx", "csv"), "annual": ("docx",), "bulletin": ("docx", "xlsx")}
BACK = "/admin/reports"


def _visible_districts(session: Session, who: Principal) -> list[str]:
    return [d for d in districts(session=session) if who.may_see(d)]


def _periods(session: Session, who: Principal) -> list[tuple[str, str]]:
    """(obligation, period) of every item the account may see."""
    stmt = (
        select(ChecklistItem.obligation, ChecklistItem.period)
        .join(Unit, col(Unit.id) == col(ChecklistItem.unit_id))
        .distinct()
    )
    if who.district:
        stmt = stmt.where(Unit.district == who.district)
    return [(o, p) for o, p in session.exec(stmt)]


def choices(who: Principal) -> dict[str, Any]:
    """What the forms offer: obligations and periods that have items, districts, years."""
    with session_scope() as s:
        pairs = _periods(s, who)
        known = _visible_districts(s, who)
    obligations = sorted({o for o, _ in pairs if o in REGISTRY})
    periods = sorted({p for o, p in pairs if o in REGISTRY}, reverse=True)
    bulletin = {p for p in periods if PERIOD_RE.match(p)} | {p[:4] for p in periods}
    this_year = today_shanghai().year
    return {
        "obligations": [(o, REGISTRY[o].title) for o in obligations],
        "periods": [(p, cn_period(p)) for p in periods],
        "bulletin_periods": [(p, cn_period(p)) for p in sorted(bulletin, reverse=True)],
        "years": list(range(this_year, this_year - 5, -1)),
        "default_year": this_year - 1,
        "districts": known,
    }


def reports_page(request: Request, who: Principal) -> Response:
    """报表下载: a form for each report."""
    return page("admin/reports.html", who=who, **choices(who))


def _district(request: Request, who: Principal, *, required: bool) -> str | None | Response:
    """The district asked for, checked against the account; an account limited to one
    district always gets its own. ``required``: a district must be chosen when there are
    several (the annual report and the 通报 are per district)."""
    asked = request.query_params.get("district", "").strip()
    if who.district:
        if asked and asked != who.district:
            return refusal(
                403,
                "无权查看",
                f"{asked}不在您账号的管辖范围内（{who.district}）。",
                who,
                back=BACK,
            )
        return who.district
    with session_scope() as s:
        known = districts(session=s)
    if asked and asked not in known:
        return refusal(400, "没有该区", f"单位名录中没有「{asked}」的单位。", who, back=BACK)
    if asked or not required:
        return asked or None
    if len(known) > 1:
        return refusal(
            400, "请选择区", f"名录中有多个区（{'、'.join(known)}），请选择一个区。", who, back=BACK
        )
    return None


def download(request: Request, who: Principal) -> Response:
    """One report file, built from the data as of today."""
    name = request.path_params["name"]
    fmt = request.path_params.get("fmt") or request.query_params.get("format", "")
    if name not in FORMATS:
        return refusal(404, "报表不存在", f"没有名为「{name}」的报表。", who, back=BACK)
    if fmt not in FORMATS[name]:
        allowed = "、".join(f.upper() for f in FORMATS[name])
        return refusal(
            404, "格式不支持", f"该报表可下载的格式为 {allowed}，没有「{fmt}」。", who, back=BACK
        )
    district = _district(request, who, required=name != "progress")
    if isinstance(district, Response):
        return district
    q = request.query_params
    try:
        with session_scope() as s:
            if name == "progress":
                doc = progress_document(
                    session=s,
                    fmt=fmt,
                    period=q.get("period", ""),
                    today=today_shanghai(),
                    obligation=q.get("obligation") or None,
                    district=district,
                )
            elif name == "annual":
                year_text = q.get("year", "").strip()
                year = small_int(year_text, hi=9999)
                if year is None:
                    raise UserError(f"年度「{year_text}」无效，应为四位数字，如 2026")
                doc = annual_document(session=s, fmt=fmt, year=year, district=district)
            else:
                doc = bulletin_document(
                    session=s,
                    fmt=fmt,
                    period=q.get("period", ""),
                    today=today_shanghai(),
                    settings=get_settings(),
                    district=district,
                )
    except NothingToReport as exc:
        return refusal(404, "没有可统计的事项", exc.message, who, back=BACK)
    except UserError as exc:
        return refusal(400, "无法生成报表", exc.message, who, back=BACK)
    return download_response(doc.data, doc.content_type, doc.filename, doc.ascii_name)


routes = [
    Route("/reports", view(reports_page), methods=["GET"]),
    Route("/reports/{name}.{fmt}", view(download), methods=["GET"]),
    Route("/reports/{name}", view(download), methods=["GET"]),
]
