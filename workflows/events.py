"""Event-driven deadlines (事件触发的时限): duties that start from an event, not the calendar.

Declaring a kind is one ``EventKind(...)`` in ``EVENT_KINDS``. ``record_event`` creates the
item with its working-day due date (and queues the unit's notice); the item then goes
through the same reminders, completion and status as every other.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from zwgk.config import Settings
from zwgk.errors import UserError
from zwgk.models.checklist import ChecklistItem, Role
from zwgk.models.outbox import OutboxMessage
from zwgk.models.unit import Unit
from zwgk.notifications.outbox import enqueue
from zwgk.notifications.render import render
from zwgk.obligation import DEFAULT_LADDER, Ladder
from zwgk.workcal import load_calendar


@dataclass(frozen=True)
class EventKind:
    """An event that starts a deadline of ``workdays`` working days."""

    slug: str
    title: str  # what must be done, e.g. 公开决策意见采纳情况
    event_label: str  # what happened, e.g. 决策文件印发
    basis: str  # a citation that reads after 根据 (no colon or semicolon inside)
    workdays: int
    ladder: Ladder = DEFAULT_LADDER

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
            slug="application-reply",
            title="答复政府信息公开申请",
            event_label="收到政府信息公开申请",
            basis="《中华人民共和国政府信息公开条例》第三十三条",
            workdays=20,
        ),
    )
}


def get_event_kind(slug: str) -> EventKind:
    try:
        return EVENT_KINDS[slug]
    except KeyError:
        raise UserError(f"未知的事件类型「{slug}」。可用的类型：{'、'.join(EVENT_KINDS)}") from None


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
) -> tuple[ChecklistItem, bool]:
    """Create the item for one event (idempotent per kind, unit, date and reference)."""
    ref = ref.strip()
    if not ref:
        raise UserError("--ref 不能为空：请写明文件文号、留言编号等")
    cal = load_calendar(session)
    due = cal.add_workdays(on, kind.workdays)
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
    )
    session.add(item)
    session.flush()
    if notify and unit.email:
        from zwgk.web.tokens import unit_link

        rendered = render(
            "event",
            kind.slug,
            event=kind,
            unit=unit,
            item=item,
            on=on,
            ref=ref,
            today=today or on,
            link=unit_link(unit.id, settings),
            subject="",
        )  # type: ignore[arg-type]
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
