"""What every obligation flow does, as plain functions the flows and tests call.

``plan`` computes the checklist of a period; ``build_checklist`` writes the missing items
and enqueues one assignment mail per unit in one transaction; ``dispatch`` (in
``notifications/outbox_send.py``) sends what is queued. Running again for the same period
creates nothing and queues nothing, because items and messages carry unique keys.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_
from sqlmodel import Session, col, select

from models.checklist import ROLE_LABELS, ChecklistItem, ItemStatus, Role
from models.directory import list_units, resolve_district, unit_groups
from models.outbox import OutboxAttachment, OutboxMessage
from models.unit import Unit, UnitKind
from notifications.links import unit_link
from notifications.outbox import enqueue_many
from notifications.render import render
from workflows.obligation import Due, Obligation
from workflows.workcal import WorkCalendar, load_calendar
from zwgk.bulk import insert_rows
from zwgk.clock import today_shanghai, utcnow
from zwgk.config import Settings
from zwgk.periods import Period

INSERT_CHUNK = 5000  # rows per bulk INSERT
# Columns of a new item as ``build_checklist`` inserts it (``created_at`` added last).
ITEM_COLUMNS = (
    "obligation",
    "period",
    "unit_id",
    "step",
    "step_title",
    "role",
    "due",
    "window_start",
    "provisional",
    "status",
    "assigned_on",
    "created_at",
)


@dataclass(slots=True)  # not frozen: a frozen __init__ cost 4 µs an item
class PlannedItem:
    """One item a flow would create: unit × step, with the unit's role and the deadline."""

    unit: Unit
    step: str
    step_title: str
    role: Role
    due: Due
    detail: str = ""


def plan(
    ob: Obligation,
    period: Period,
    units: list[Unit],
    cal: WorkCalendar,
    settings: Settings,
    session: Session | None = None,
) -> list[PlannedItem]:
    """One item per responsible unit and step, with its role and due date.

    Obligations with a ``planner`` (the imported work plan) compute their items from the
    database; the others from their declared steps.
    """
    if ob.planner is not None:
        if session is None:
            raise ValueError(f"{ob.slug} needs a database session to plan")
        return ob.planner(session=session, period=period, units=units, cal=cal, settings=settings)
    planned: list[PlannedItem] = []
    for step in ob.steps:
        due = step.due(period, cal, settings)
        for unit in units:
            if step.who.matches(unit.kind, unit_groups(unit)):
                planned.append(
                    PlannedItem(unit, step.slug, step.title, step.role, due, step.detail)
                )
    return planned


def assignment_key(ob: Obligation, period: Period, unit_id: int) -> str:
    return f"assignment:{ob.slug}:{period}:unit={unit_id}"


@dataclass
class BuildResult:
    obligation: str
    period: str
    district: str
    created: int = 0
    existing: int = 0
    updated: int = 0  # pending items whose deadline/title/role moved with a corrected plan
    withdrawn: int = 0  # pending items of retired tasks, now waived
    no_email: list[str] = field(default_factory=list)  # units that could not be mailed
    queued: list[str] = field(default_factory=list)  # unit names that get an assignment mail
    provisional: bool = False
    preview: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "obligation": self.obligation,
            "period": self.period,
            "district": self.district,
            "created": self.created,
            "existing": self.existing,
            "updated": self.updated,
            "withdrawn": self.withdrawn,
            "no_email": self.no_email,
            "queued": self.queued,
            "provisional": self.provisional,
        }


@dataclass(slots=True)
class _NewItem:
    """An item to create, as the assignment mail needs it (not an ORM object: a city's
    plan creates ~100,000 of them, and ORM construction dominated the whole build)."""

    step_title: str
    role: Role
    due: date
    window_start: date | None
    provisional: bool
    id: int | None = None


def _insert_items(
    session: Session,
    ob: Obligation,
    period: Period,
    rows: list[tuple[Any, ...]],
    items: list[_NewItem],
) -> None:
    """Insert the new items in bulk, then read their ids back by their unique key.

    (``INSERT … RETURNING`` with the rows in parameter order falls back to one statement
    per row on SQLite; one ``executemany`` and one SELECT are far faster.)
    """
    if not rows:
        return
    now = utcnow()
    for start in range(0, len(rows), INSERT_CHUNK):
        insert_rows(
            session,
            ChecklistItem.__table__,  # type: ignore[attr-defined]
            ITEM_COLUMNS,
            [(*r, now) for r in rows[start : start + INSERT_CHUNK]],
        )
    ids = {
        (unit_id, step): item_id
        for item_id, unit_id, step in session.connection().execute(
            select(ChecklistItem.id, ChecklistItem.unit_id, ChecklistItem.step)
            .where(ChecklistItem.obligation == ob.slug)
            .where(ChecklistItem.period == str(period))
            .where(_units_in(sorted({r[2] for r in rows})))
        )
    }
    for row, item in zip(rows, items, strict=True):
        item.id = ids[(row[2], row[3])]  # (unit_id, step)


@dataclass(slots=True)
class ItemView:
    """One line of the assignment mail. An object, not a dict: Jinja resolves
    ``item.due`` on a dict by a failed attribute lookup first, which made rendering a
    100-item mail 2.5× slower."""

    id: int | None
    step_title: str
    detail: str
    role_label: str
    due: date
    window_start: date | None
    provisional: bool
    late: bool = False  # past its deadline on the day the mail is written


def _item_view(item: ChecklistItem | _NewItem, detail: str, today: date) -> ItemView:
    return ItemView(
        id=item.id,
        step_title=item.step_title,
        detail=detail,
        role_label=ROLE_LABELS[Role(item.role)],
        due=item.due,
        window_start=item.window_start,
        provisional=item.provisional,
        late=item.due < today,
    )


# How much is built at a time, so memory stays flat whatever the district's size: about
# CHUNK_ITEMS items (and their units' mails), at most CHUNK_UNITS units. A district's first
# FIRST_CHUNK_UNITS units show how many items a unit gets (100 one-off tasks: 100; the same
# 全年: 300, and mails three times as long), which sizes the chunks after them.
CHUNK_UNITS = 50
CHUNK_ITEMS = 5000
FIRST_CHUNK_UNITS = 10
# ``session.info`` key of a dict a planner may keep what it read for the length of one
# ``build_checklist`` (which plans chunk by chunk), e.g. the work plan's resolved tasks.
PLANNER_MEMO = "zwgk.planner_memo"


@dataclass
class _Build:
    """What every chunk of one ``build_checklist`` shares."""

    session: Session
    ob: Obligation
    period: Period
    settings: Settings
    today: date | None
    dry_run: bool
    cal: WorkCalendar
    office: Unit | None  # the 落款's contact of last resort (no ZWGK_OFFICE_CONTACT)
    result: BuildResult


def build_checklist(
    *,
    session: Session,
    ob: Obligation,
    period: Period,
    settings: Settings,
    district: str | None = None,
    dry_run: bool = False,
    today: date | None = None,
) -> BuildResult:
    """Create the period's missing items and queue one assignment mail per unit.

    Works through the district's units a chunk at a time (about ``CHUNK_ITEMS`` items):
    plan, compare with the existing items, insert the new ones in bulk, render and queue
    the chunk's mails, so a district of 4,000 units needs no more memory than one of 50.
    The caller owns the transaction (commit or roll back). With ``dry_run`` nothing is
    added to the session: the result's ``preview`` lists what would be created and sent.
    """
    district = resolve_district(
        session=session, district=district, default=settings.default_district
    )
    units = list_units(session=session, district=district)
    b = _Build(
        session=session,
        ob=ob,
        period=period,
        settings=settings,
        today=today,
        dry_run=dry_run,
        cal=load_calendar(session),
        office=next((u for u in units if u.kind == UnitKind.office), None),
        result=BuildResult(ob.slug, str(period), district),
    )
    # Every unit of the district, inactive ones too: their pending items of a planner's
    # obligation are withdrawn. Another district's items are never touched.
    active = {u.id: u for u in units}
    all_ids = list(
        session.exec(select(col(Unit.id)).where(Unit.district == district).order_by(col(Unit.id)))
    )
    session.info[PLANNER_MEMO] = {}
    try:
        start, size = 0, FIRST_CHUNK_UNITS
        while start < len(all_ids):
            chunk = all_ids[start : start + size]
            members = [active[i] for i in chunk if i in active]
            planned = _build_chunk(b, chunk, members)  # type: ignore[arg-type]
            start += len(chunk)
            per_unit = planned / max(len(members), 1)
            size = max(1, min(CHUNK_UNITS, int(CHUNK_ITEMS / max(per_unit, 1))))
    finally:
        session.info.pop(PLANNER_MEMO, None)
    return b.result


def preflight(
    *, session: Session, ob: Obligation, period: Period, settings: Settings, district: str | None
) -> str:
    """What a user can fix, checked before a run starts (no directory, unknown district, no
    plan imported): raises the ``UserError`` the build would, at the cost of planning one
    unit. Returns the district."""
    district = resolve_district(
        session=session, district=district, default=settings.default_district
    )
    units = list_units(session=session, district=district)
    plan(ob, period, units[:1], load_calendar(session), settings, session)
    return district


def _build_chunk(b: _Build, unit_ids: list[int], units: list[Unit]) -> int:
    """Plan, create and queue for the units ``unit_ids`` (``units``: the active ones).
    Returns how many items were planned."""
    planned = plan(b.ob, b.period, units, b.cal, b.settings, b.session)
    b.result.provisional = b.result.provisional or any(p.due.provisional for p in planned)
    existing = _existing_items(b, unit_ids)
    per_unit, new_rows, new_items = _apply_plan(b, planned, existing)
    if b.ob.planner is not None and existing:  # nothing built before: nothing to withdraw
        _withdraw(b, existing, {(p.unit.id, p.step) for p in planned})
    if not b.dry_run:
        b.session.flush()  # updated and withdrawn items
        _insert_items(b.session, b.ob, b.period, new_rows, new_items)  # ids for the mail
    _queue_mails(b, per_unit, units)
    return len(planned)


def _units_in(unit_ids: list[int]) -> ColumnElement[bool]:
    """``unit_id IN unit_ids``, bounded by the ids' range too, so the item key's index
    (obligation, period, unit_id, step) is scanned for these units only. Without the range
    PostgreSQL, planning against a table that grew in this very transaction (no statistics
    yet), kept the ``IN`` as a filter over every item of the period: a 4,000-unit build read
    its growing 400,000 items twice per chunk, 27 s each way. A chunk's ids are consecutive
    in the district's id order, so the range holds little else."""
    unit = col(ChecklistItem.unit_id)
    if not unit_ids:
        return unit.in_([])
    return and_(unit.in_(unit_ids), unit >= min(unit_ids), unit <= max(unit_ids))


def _existing_items(b: _Build, unit_ids: list[int]) -> dict[tuple[int, str], ChecklistItem]:
    """The period's items of these units, by (unit id, step): by unit id, so the lookup
    uses the item key's index."""
    return {
        (i.unit_id, i.step): i
        for i in b.session.exec(
            select(ChecklistItem)
            .where(ChecklistItem.obligation == b.ob.slug)
            .where(ChecklistItem.period == str(b.period))
            .where(_units_in(unit_ids))
        )
    }


def _apply_plan(
    b: _Build, planned: list[PlannedItem], existing: dict[tuple[int, str], ChecklistItem]
) -> tuple[
    dict[int, list[tuple[ChecklistItem | _NewItem, str]]], list[tuple[Any, ...]], list[_NewItem]
]:
    """Compare the plan with the existing items: move a pending item's deadline, title or
    role with a corrected plan; collect the rows of the new ones (or their preview).
    Returns each unit's items with their detail, the new rows and the new items."""
    result = b.result
    per_unit: dict[int, list[tuple[ChecklistItem | _NewItem, str]]] = defaultdict(list)
    new_rows: list[tuple[Any, ...]] = []
    new_items: list[_NewItem] = []
    period_key, slug = str(b.period), b.ob.slug
    for p in planned:
        item: ChecklistItem | _NewItem
        unit_id = p.unit.id  # an ORM attribute: read once (a city plans ~100,000 items)
        old = existing.get((unit_id, p.step)) if existing else None  # type: ignore[arg-type]
        if old is not None:
            item = old
            result.existing += 1
            new = (p.due.due, p.due.window_start, p.step_title, p.role)
            if (
                old.status == ItemStatus.pending
                and (old.due, old.window_start, old.step_title, old.role) != new
            ):
                result.updated += 1
                if not b.dry_run:
                    old.due, old.window_start, old.step_title, old.role = new
                    old.provisional = p.due.provisional
                    b.session.add(old)
        else:
            fresh = _NewItem(p.step_title, p.role, p.due.due, p.due.window_start, p.due.provisional)
            item = fresh
            result.created += 1
            if b.dry_run:
                result.preview.append(
                    {
                        "unit": p.unit.name,
                        "step": p.step,
                        "step_title": p.step_title,
                        "role": p.role.value,
                        "due": p.due.due.isoformat(),
                        "provisional": p.due.provisional,
                    }
                )
            else:
                new_rows.append(
                    (
                        slug,
                        period_key,
                        unit_id,
                        p.step,
                        p.step_title,
                        p.role,
                        p.due.due,
                        p.due.window_start,
                        p.due.provisional,
                        ItemStatus.pending,
                        b.today,
                    )
                )
                new_items.append(fresh)
        per_unit[unit_id].append((item, p.detail))  # type: ignore[index]
    return per_unit, new_rows, new_items


def _withdraw(
    b: _Build,
    existing: dict[tuple[int, str], ChecklistItem],
    planned_keys: set[tuple[int | None, str]],
) -> None:
    """Items whose task was retired or reassigned by a re-imported plan: waived, kept."""
    for key, gone in existing.items():
        if key not in planned_keys and gone.status == ItemStatus.pending:
            b.result.withdrawn += 1
            if not b.dry_run:
                gone.status = ItemStatus.waived
                gone.note = "工作要点重新导入后该任务已撤销或调整，本事项不再需要办理"
                gone.completed_by = "系统"
                b.session.add(gone)


def _queue_mails(
    b: _Build, per_unit: dict[int, list[tuple[ChecklistItem | _NewItem, str]]], units: list[Unit]
) -> None:
    """Render each unit's assignment mail once and queue the chunk's mails in bulk (not
    for units already sent one for this period, or without an address)."""
    ob, period, session = b.ob, b.period, b.session
    keys: dict[int | None, str] = {
        u.id: assignment_key(ob, period, u.id) for u in units if u.id in per_unit
    }  # type: ignore[arg-type]
    sent_keys = set(
        session.exec(
            select(OutboxMessage.key).where(col(OutboxMessage.key).in_(list(keys.values())))
        )
    )
    mails: list[tuple[OutboxMessage, Unit]] = []
    today, now = b.today or today_shanghai(), utcnow()
    for unit in units:
        entries = per_unit.get(unit.id)  # type: ignore[arg-type]
        if entries is None or keys[unit.id] in sent_keys:
            continue
        if not unit.email:
            b.result.no_email.append(unit.name)
            continue
        b.result.queued.append(unit.name)
        if b.dry_run:
            continue
        items = [
            _item_view(i, s, today)
            for i, s in sorted(entries, key=lambda e: (e[0].due, e[0].id or 0))
        ]
        rendered = render(
            "assignment",
            ob.template_dir,
            obligation=ob,
            period=period,
            unit=unit,
            office=b.office,
            link=unit_link(unit.id, b.settings),  # type: ignore[arg-type]
            today=today,
            items=items,
            late=sum(i.late for i in items),
            subject="",
        )
        message = OutboxMessage(  # every field given: a default_factory costs pydantic a
            # signature inspection per object (a tenth of a city's expansion)
            key=keys[unit.id],
            recipient=unit.email,
            unit_id=unit.id,
            obligation=ob.slug,
            period=str(period),
            kind="assignment",
            subject=rendered.subject,
            body_text=rendered.text,
            body_html=rendered.html,
            cc=[],
            created_at=now,
        )
        mails.append((message, unit))
    if not mails:
        return
    added = {m.key for m in enqueue_many(session=session, messages=[m for m, _ in mails])}
    if ob.attachments is not None:
        for message, unit in mails:
            if message.key not in added:
                continue
            for filename, data, mime in ob.attachments(session=session, unit=unit, period=period):
                session.add(
                    OutboxAttachment(
                        outbox_id=message.id,  # type: ignore[arg-type]
                        filename=filename,
                        mime_type=mime,
                        data=data,
                    )
                )
