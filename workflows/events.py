"""Event-driven deadlines (事件触发的时限): duties that start from an event, not the calendar.

Declaring a kind is one ``EventKind(...)`` in ``EVENT_KINDS``. ``record_event`` creates the
item with its working-day due date (and queues the unit's notice); the item then goes
through the same reminders, completion and status as every other.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, select

from models.annual import Application
from models.checklist import ChecklistItem, Role
from models.outbox import OutboxMessage
from models.reminder import ItemEvent
from models.unit import Unit, UnitKind
from notifications.links import unit_link
from notifications.outbox import enqueue
from notifications.render import cn_day, render
from workflows.obligation import DEFAULT_LADDER, Ladder
from workflows.workcal import CalendarResult, WorkCalendar, load_calendar
from zwgk.config import Settings
from zwgk.errors import UserError


@dataclass(frozen=True)
class EventKind:
    """An event that starts a deadline of ``workdays`` working days."""

    slug: str
    title: str  # what must be done, e.g. 公开决策意见采纳情况
    event_label: str  # what happened, e.g. 决策文件印发
    basis: str  # a citation that reads after 根据 (no colon or semicolon inside)
    workdays: int
    ladder: Ladder = DEFAULT_LADDER
    # The clock restarts when a corrected request arrives (补正) and pauses while a third
    # party is consulted: 《政府信息公开条例》第三十条、第三十二条. Only information requests.
    adjustable_clock: bool = False

    @property
    def obligation(self) -> str:
        return self.slug


EVENT_KINDS: dict[str, EventKind] = {
    k.slug: k
    for k in (
        EventKind(
            slug="decision-feedback",
            title="公开决策公众意见收集和采纳情况",
            event_label="决策文件印发",
            basis="本区政务公开工作要点关于决策文件印发后10个工作日内公开公众意见收集和采纳情况的要求",
            workdays=10,
        ),
        EventKind(
            slug="document-publish",
            title="公开主动公开属性的政府公文",
            event_label="公文形成",
            basis="本区政务公开工作要点关于主动公开公文在形成之日起20个工作日内公开的要求",
            workdays=20,
        ),
        EventKind(
            slug="message-reply",
            title="答复网上留言（政民互动）",
            event_label="收到网上留言",
            basis="本区政务公开工作要点关于网上留言5个工作日内答复的要求",
            workdays=5,
        ),
        EventKind(
            slug="message-reply-simple",
            title="答复简单网上留言（政民互动）",
            event_label="收到简单咨询类网上留言",
            basis="本区政务公开工作要点关于网上咨询留言简单问题1个工作日内完成答复的要求",
            workdays=1,
        ),
        EventKind(
            slug="site-error-report",
            title="答复“我为政府网站找错”网民留言",
            event_label="收到“我为政府网站找错”网民留言",
            basis="本区政务公开工作要点关于“我为政府网站找错”留言3个工作日内答复的要求",
            workdays=3,
        ),
        EventKind(
            slug="application-reply",
            title="答复政府信息公开申请",
            event_label="收到政府信息公开申请",
            basis="《中华人民共和国政府信息公开条例》第三十三条",
            workdays=20,
            adjustable_clock=True,
        ),
    )
}


def get_event_kind(slug: str) -> EventKind:
    try:
        return EVENT_KINDS[slug]
    except KeyError:
        raise UserError(f"未知的事件类型「{slug}」。可用的类型：{'、'.join(EVENT_KINDS)}") from None


def reply_clock(
    *,
    cal: WorkCalendar,
    kind: EventKind,
    received: date,
    corrected_on: date | None = None,
    excluded_workdays: int = 0,
    extended: bool = False,
) -> tuple[CalendarResult, str | None]:
    """The due date of an event item and, when anything but the plain count applies, how
    it was computed (Chinese, shown in status, on the unit's page and in mail).

    A corrected request (补正) restarts the count on the day it arrives (条例第三十条); working
    days spent consulting a third party are not counted (第三十二条); an extension adds the
    kind's working days once more (第三十三条).
    """
    if (corrected_on is not None or excluded_workdays or extended) and not kind.adjustable_clock:
        raise UserError(
            f"「{kind.title}」的时限不能补正起算、扣除征求意见时间或延期："
            f"--corrected-on、--consultation、--consultation-days 仅用于 application-reply"
        )
    if corrected_on is not None and corrected_on < received:
        raise UserError(
            f"--corrected-on（补正后收到日期）{cn_day(corrected_on)}早于收到申请的日期"
            f"{cn_day(received)}，请核对"
        )
    if excluded_workdays < 0:
        raise UserError(
            f"--consultation-days（征求第三方意见的工作日数）不能为负数：{excluded_workdays}"
        )
    start = corrected_on or received
    days = kind.workdays * (2 if extended else 1)
    due = cal.add_workdays(start, days + excluded_workdays)
    if corrected_on is None and not excluded_workdays and not extended:
        return due, None
    what = "补正材料" if corrected_on is not None else "申请"
    basis = f"自{cn_day(start)}收到{what}起算{days}个工作日"
    if extended:
        basis += f"（含延期{kind.workdays}个工作日）"
    if excluded_workdays:
        basis += f"；征求第三方意见{excluded_workdays}个工作日不计入"
    return due, basis


def consultation_workdays(
    *, cal: WorkCalendar, start: date, end: date, received: date | None = None
) -> int:
    """Working days from ``start`` to ``end``, both included (征求第三方意见期间)."""
    if end < start:
        raise UserError(
            f"--consultation 的结束日期{cn_day(end)}早于开始日期{cn_day(start)}，"
            "应为「--consultation 开始日期 结束日期」"
        )
    if received is not None and start < received:
        raise UserError(
            f"--consultation 的开始日期{cn_day(start)}早于收到申请的日期{cn_day(received)}，请核对"
        )
    return cal.workdays_between(start - timedelta(days=1), end)


def record_event(
    *,
    session: Session,
    kind: EventKind,
    unit: Unit,
    on: date,
    ref: str,
    settings: Settings,
    today: date | None = None,
    notify: bool = True,
    corrected_on: date | None = None,
    excluded_workdays: int = 0,
) -> tuple[ChecklistItem, bool]:
    """Create the item for one event (idempotent per kind, unit, date and reference)."""
    ref = ref.strip()
    if not ref:
        raise UserError("--ref 不能为空：请写明文件文号、留言编号等")
    cal = load_calendar(session)
    due, due_basis = reply_clock(
        cal=cal,
        kind=kind,
        received=on,
        corrected_on=corrected_on,
        excluded_workdays=excluded_workdays,
    )
    step = "ref-" + hashlib.sha1(ref.encode()).hexdigest()[:16]
    existing = session.exec(
        select(ChecklistItem).where(
            ChecklistItem.obligation == kind.obligation,
            ChecklistItem.period == on.isoformat(),
            ChecklistItem.unit_id == unit.id,
            ChecklistItem.step == step,
        )
    ).first()
    if existing is not None:
        return existing, False
    item = ChecklistItem(
        obligation=kind.obligation,
        period=on.isoformat(),
        unit_id=unit.id,  # type: ignore[arg-type]
        step=step,
        step_title=f"{kind.title}（{ref}）",
        role=Role.responsible,
        due=due.date,
        provisional=due.provisional,
        assigned_on=today or on,
        clock_from=corrected_on,
        excluded_workdays=excluded_workdays,
        due_basis=due_basis,
    )
    session.add(item)
    session.flush()
    if notify and unit.email:
        office = session.exec(
            select(Unit).where(Unit.district == unit.district, Unit.kind == UnitKind.office)
        ).first()
        rendered = render(
            "event",
            kind.slug,
            event=kind,
            unit=unit,
            office=office,
            item=item,
            on=on,
            ref=ref,
            today=today or on,
            link=unit_link(unit.id, settings),  # type: ignore[arg-type]
            subject="",
        )
        enqueue(
            session=session,
            message=OutboxMessage(
                key=f"event:{kind.slug}:{item.id}",
                recipient=unit.email,
                unit_id=unit.id,
                obligation=kind.obligation,
                period=on.isoformat(),
                kind="assignment",
                subject=rendered.subject,
                body_text=rendered.text,
                body_html=rendered.html,
            ),
        )
    return item, True


def adjust_clock(
    *,
    session: Session,
    item_id: int,
    corrected_on: date | None = None,
    excluded_workdays: int | None = None,
    by: str = "",
) -> ChecklistItem:
    """Apply a correction date or consultation days to an item already recorded; what is
    not given keeps its earlier value. The change is kept in the item's history."""
    item = session.get(ChecklistItem, item_id)
    if item is None:
        raise UserError(f"事项 {item_id} 不存在")
    kind = EVENT_KINDS.get(item.obligation)
    if kind is None or not kind.adjustable_clock:
        raise UserError(
            f"事项 {item_id} 不是政府信息公开申请的答复事项，不能补正起算或扣除征求意见时间"
        )
    app = session.exec(select(Application).where(Application.item_id == item.id)).first()
    received = app.received if app is not None else date.fromisoformat(item.period)
    clock_from = corrected_on if corrected_on is not None else item.clock_from
    excluded = excluded_workdays if excluded_workdays is not None else item.excluded_workdays
    due, basis = reply_clock(
        cal=load_calendar(session),
        kind=kind,
        received=received,
        corrected_on=clock_from,
        excluded_workdays=excluded,
        extended=bool(app is not None and app.extended),
    )
    before = item.due
    item.due, item.provisional = due.date, due.provisional
    item.clock_from, item.excluded_workdays, item.due_basis = clock_from, excluded, basis
    session.add(item)
    session.add(
        ItemEvent(
            item_id=item_id,
            action="reclock",
            by=by,
            reason=f"截止日期由{cn_day(before)}调整为{cn_day(item.due)}：{basis or '自收到申请之日起算'}",
        )
    )
    session.flush()
    return item
