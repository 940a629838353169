"""The dashboard (/admin/): every obligation period in progress; the unit view
(/admin/units/{id}); the item view (/admin/items/{id}) with its history and evidence, and
the admin's waive/reopen.

The numbers come from the same query and the same derived status as ``zwgk status --json``
(:func:`workflows.items.query_items`, :func:`workflows.items.item_json`), so the page and the
command agree for the same data and the same day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session, col, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from models.checklist import ROLE_LABELS, STATUS_LABELS, ChecklistItem, Role
from models.directory import districts
from models.reminder import ItemEvent, ReminderLog
from models.unit import Unit
from notifications.render import cn_day, cn_period
from workflows.items import (
    awaiting_review_ids,
    extend_due,
    item_json,
    query_items,
    reopen,
    waive,
)
from workflows.obligation import DEFAULT_LADDER
from workflows.registry import REGISTRY, item_titles
from workflows.reminder_ladder import rung_title
from zwgk.access.audit import ACTION_LABELS
from zwgk.clock import as_utc, today_shanghai
from zwgk.db import session_scope
from zwgk.errors import UserError
from zwgk.intake.tabular import parse_date
from zwgk.web.admin import review
from zwgk.web.admin.common import Principal, action, item_action, page, refusal, view
from zwgk.web.limits import small_int

STATUSES = ("done", "awaiting", "pending", "overdue", "waived")


def count_key(row: dict[str, Any]) -> str:
    """Where a ``zwgk status --json`` row is counted: its status, or 待审核 for a done item
    whose completion waits for the office's review (not done until 通过)."""
    return "awaiting" if row.get("awaiting_review") else str(row["status"])


@dataclass
class UnitLine:
    """One unit's items in one period."""

    unit: str
    unit_id: int
    district: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    open_items: list[dict[str, Any]] = field(default_factory=list)  # overdue first


@dataclass
class PeriodSummary:
    """One obligation period: counts by status and 完成率 (done of those not waived; 待审核
    is not done yet)."""

    obligation: str
    obligation_title: str
    period: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    first_due: str = ""
    last_due: str = ""
    units: dict[int, UnitLine] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def rate(self) -> float:
        required = self.total - self.counts["waived"]
        return self.counts["done"] / required if required else 0.0

    @property
    def due_label(self) -> str:
        """截止日期 in Chinese: one day, or the first and the last."""
        first, last = date.fromisoformat(self.first_due), date.fromisoformat(self.last_due)
        return cn_day(first) + ("" if first == last else f"至{cn_day(last)}")

    @property
    def in_progress(self) -> bool:
        return bool(self.counts["pending"] or self.counts["overdue"])

    @property
    def key(self) -> str:
        return f"{self.obligation}-{self.period}"

    def units_behind(self) -> list[UnitLine]:
        """Units with open items, those with overdue items first (most overdue first)."""
        lines = [u for u in self.units.values() if u.counts["pending"] or u.counts["overdue"]]
        return sorted(lines, key=lambda u: (-u.counts["overdue"], -u.counts["pending"], u.unit))


def summaries(
    rows: list[dict[str, Any]], unit_of: dict[int, tuple[int, str]]
) -> list[PeriodSummary]:
    """``zwgk status --json`` rows grouped by obligation period (``unit_of``: item id → unit
    id and district, since two districts may each have a unit of the same name)."""
    titles = item_titles()
    groups: dict[tuple[str, str], PeriodSummary] = {}
    for r in rows:
        key = (r["obligation"], r["period"])
        p = groups.get(key)
        if p is None:
            p = groups[key] = PeriodSummary(
                r["obligation"], titles.get(r["obligation"], r["obligation"]), r["period"]
            )
        p.counts[count_key(r)] += 1
        p.first_due = min(p.first_due or r["due"], r["due"])
        p.last_due = max(p.last_due, r["due"])
        uid, district = unit_of[r["id"]]
        line = p.units.setdefault(uid, UnitLine(r["unit"], uid, district))
        line.counts[count_key(r)] += 1
        if r["status"] in ("overdue", "pending"):
            line.open_items.append(r)
    for p in groups.values():
        for line in p.units.values():
            line.open_items.sort(key=lambda r: (r["status"] != "overdue", r["due"], r["id"]))
    return sorted(
        groups.values(),
        key=lambda p: (not p.counts["overdue"], p.first_due, p.obligation, p.period),
    )


def _visible_rows(
    who: Principal, district: str | None = None
) -> tuple[list[dict[str, Any]], dict[int, tuple[int, str]]]:
    """``zwgk status --json`` rows of the account's districts (of ``district`` alone when
    given), and each item's unit id and district."""
    today = today_shanghai()
    with session_scope() as s:
        pairs = [
            (i, u)
            for i, u in query_items(session=s, district=district or who.district)
            if who.may_see(u.district)
        ]
        awaiting = awaiting_review_ids(session=s, items=[i for i, _ in pairs])
        rows = [item_json(i, u, today, awaiting_review=i.id in awaiting) for i, u in pairs]
        unit_of = {i.id: (u.id, u.district) for i, u in pairs}
    return rows, unit_of  # type: ignore[return-value]


def dashboard(request: Request, who: Principal) -> Response:
    """工作台首页: periods in progress (all periods with ?all=1)."""
    show_all = request.query_params.get("all") == "1"
    with session_scope() as s:
        known = [d for d in districts(session=s) if who.may_see(d)]
    district = request.query_params.get("district", "").strip() or None
    if district is not None and district not in known:
        if not who.may_see(district):
            return refusal(403, "无权查看", f"{district}不在您账号的管辖范围内。", who)
        return refusal(404, "没有该区", f"单位名录中没有「{district}」的单位。", who)
    rows, unit_of = _visible_rows(who, district)
    periods = summaries(rows, unit_of)
    shown = periods if show_all else [p for p in periods if p.in_progress]
    overdue = sum(p.counts["overdue"] for p in shown)
    return page(
        "admin/dashboard.html",
        who=who,
        periods=shown,
        hidden=len(periods) - len(shown),
        show_all=show_all,
        overdue=overdue,
        several_districts=district is None and len({d for _, d in unit_of.values()}) > 1,
        districts=known if who.district is None else [],
        district=district,
        reportable=set(REGISTRY),
        awaiting=[a for a in review.awaiting_for(who) if district in (None, a["district"])],
        today=today_shanghai(),
        labels=STATUS_LABELS,
        cn_period=cn_period,
    )


def _load_item(who: Principal, raw: str) -> tuple[ChecklistItem, Unit] | Response:
    item_id = small_int(raw)
    if item_id is None:
        return refusal(404, "事项不存在", f"没有编号为「{raw}」的事项。", who)
    with session_scope() as s:
        item = s.get(ChecklistItem, item_id)
        unit = s.get(Unit, item.unit_id) if item else None
    if item is None or unit is None:
        return refusal(404, "事项不存在", f"没有编号为 {item_id} 的事项。", who)
    if not who.may_see(unit.district):
        return refusal(
            403, "无权查看", f"事项 {item_id} 属于{unit.district}，不在您账号的管辖范围内。", who
        )
    return item, unit


def item_view(request: Request, who: Principal) -> Response:
    """事项详情: details, history (actions and reminders), evidence; actions for admins."""
    loaded = _load_item(who, request.path_params["item_id"])
    if isinstance(loaded, Response):
        return loaded
    item, unit = loaded
    today = today_shanghai()
    ob = REGISTRY.get(item.obligation)
    ladder = ob.ladder if ob else DEFAULT_LADDER
    with session_scope() as s:
        events = list(
            s.exec(
                select(ItemEvent)
                .where(ItemEvent.item_id == item.id)
                .order_by(col(ItemEvent.at), col(ItemEvent.id))
            )
        )
        reminders = list(
            s.exec(
                select(ReminderLog)
                .where(ReminderLog.item_id == item.id)
                .order_by(col(ReminderLog.created_at), col(ReminderLog.id))
            )
        )
    history: list[dict[str, Any]] = [
        {
            "at": item.created_at,
            "what": "生成事项",
            "by": "",
            "detail": f"截止日期{cn_day(item.due)}",
        }
    ]
    history += [
        {
            "at": e.at,
            "what": ACTION_LABELS.get(e.action, e.action),
            "by": e.by,
            "detail": e.reason,
        }
        for e in events
    ]
    history += [
        {
            "at": r.created_at,
            "what": "催办提醒" + ("（跳过）" if r.skipped else ""),
            "by": "系统",
            "detail": f"{rung_title(ladder, r.rung)}（{cn_day(r.on)}）",
        }
        for r in reminders
    ]

    history.sort(key=lambda h: as_utc(h["at"]))  # type: ignore[arg-type,return-value]
    with session_scope() as s:
        awaiting = bool(awaiting_review_ids(session=s, items=[item]))
    data = item_json(item, unit, today, awaiting_review=awaiting)
    return page(
        "admin/item.html",
        who=who,
        item=item,
        unit=unit,
        data=data,
        title=item_titles().get(item.obligation, item.obligation),
        period=cn_period(item.period),
        role=ROLE_LABELS[Role(item.role)],
        status_label=STATUS_LABELS[data["status"]],
        history=history,
        done=request.query_params.get("done"),
        today=today,
        **review.item_context(item.id),  # type: ignore[arg-type]
    )


def unit_view(request: Request, who: Principal) -> Response:
    """One unit: everything it owes (open items first, overdue first) and its recent history."""
    raw = request.path_params["unit_id"]
    unit_id = small_int(raw)
    if unit_id is None:
        return refusal(404, "单位不存在", f"没有编号为「{raw}」的单位。", who)
    today = today_shanghai()
    with session_scope() as s:
        unit = s.get(Unit, unit_id)
        if unit is None:
            return refusal(404, "单位不存在", f"没有编号为 {unit_id} 的单位。", who)
        if not who.may_see(unit.district):
            return refusal(
                403, "无权查看", f"{unit.name}属于{unit.district}，不在您账号的管辖范围内。", who
            )
        pairs = query_items(session=s, unit=unit)
        awaiting = awaiting_review_ids(session=s, items=[i for i, _ in pairs])
        rows = [item_json(i, u, today, awaiting_review=i.id in awaiting) for i, u in pairs]
        events = list(
            s.exec(
                select(ItemEvent)
                .join(ChecklistItem, col(ChecklistItem.id) == col(ItemEvent.item_id))
                .where(ChecklistItem.unit_id == unit.id)
                .order_by(col(ItemEvent.at).desc(), col(ItemEvent.id).desc())
                .limit(50)
            )
        )
    titles = item_titles()
    order = {"overdue": 0, "pending": 1, "awaiting": 2, "done": 3, "waived": 4}
    rows.sort(key=lambda r: (order[count_key(r)], r["due"], r["id"]))
    counts = dict.fromkeys(STATUSES, 0)
    for r in rows:
        counts[count_key(r)] += 1
        r["title"] = titles.get(r["obligation"], r["obligation"])
        r["period_label"] = cn_period(r["period"])
    return page(
        "admin/unit.html",
        who=who,
        unit=unit,
        rows=rows,
        counts=counts,
        events=events,
        labels=STATUS_LABELS,
        actions=ACTION_LABELS,
        today=today,
    )


def _extend(s: Session, item: ChecklistItem, who: Principal, form: dict[str, str]) -> None:
    try:
        new_due = parse_date(form.get("due", ""))
    except ValueError as exc:
        raise UserError(f"新的截止日期：{exc}") from None
    if new_due is None:
        raise UserError("请填写新的截止日期（YYYY-MM-DD）")
    extend_due(
        session=s,
        item_id=item.id,  # type: ignore[arg-type]
        new_due=new_due,
        reason=form.get("reason", "").strip(),
        by=who.name,
    )


def _reopen(s: Session, item: ChecklistItem, who: Principal, form: dict[str, str]) -> None:
    reason = form.get("reason", "").strip()
    if not reason:
        raise UserError("重新打开须说明理由")
    reopen(session=s, item_id=item.id, by=who.name, reason=reason)  # type: ignore[arg-type]


def waive_item(request: Request, who: Principal, form: dict[str, str]) -> Response:
    reason = form.get("reason", "").strip()
    return item_action(
        request,
        who,
        "waive",
        lambda s, item, _unit: waive(session=s, item_id=item.id, reason=reason, by=who.name),  # type: ignore[arg-type]
    )


def reopen_item(request: Request, who: Principal, form: dict[str, str]) -> Response:
    return item_action(request, who, "reopen", lambda s, item, _unit: _reopen(s, item, who, form))


def extend_item(request: Request, who: Principal, form: dict[str, str]) -> Response:
    return item_action(request, who, "extend", lambda s, item, _unit: _extend(s, item, who, form))


routes = [
    Route("/", view(dashboard), methods=["GET"]),
    Route("/items/{item_id}", view(item_view), methods=["GET"]),
    Route("/units/{unit_id}", view(unit_view), methods=["GET"]),
    Route("/items/{item_id}/waive", action(waive_item), methods=["POST"]),
    Route("/items/{item_id}/reopen", action(reopen_item), methods=["POST"]),
    Route("/items/{item_id}/extend", action(extend_item), methods=["POST"]),
]
