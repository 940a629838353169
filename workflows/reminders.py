"""The reminder sweep (催办): on each working day, send each open item the latest rung of its
obligation's ladder it has reached, one digest mail per unit.

Rules, each tested by name in ``tests/test_reminders.py``:

* A rung's date is ``due`` moved by its offset in working days; the weekly chase follows
  the last fixed rung every ``weekly_days`` calendar days.
* A rung on or before the day the item was assigned is covered by the assignment mail.
* Each rung is sent at most once per item (``ReminderLog`` is unique per item and rung).
* After a gap (service down, ``--today`` jumping ahead) only the latest rung reached is sent;
  the rungs passed over are logged as skipped, never mailed.
* Done and waived items get nothing. A non-working day sends nothing.
* Unit mails go to the unit alone, never copied. A digest lists the unit's overdue items
  (已逾期) apart from those not yet due (即将到期); an escalation rung says so in the subject.
* The office (政务公开办, the district's unit of kind ``office``) gets one overdue summary
  (逾期汇总) per day: every unit with a pending item past its due date, with its contact,
  the items, due dates and working days overdue. No item overdue, no summary.
* A lead unit (牵头) gets one summary per day of the units it coordinates that are behind:
  the non-lead units of a step it leads. A step whose units are all leads (各单位) has nobody
  to coordinate; the office never gets a lead summary (its own summary has everyone).
* Summaries are keyed per day and recipient: a second sweep the same day queues none.

The sweep is here; which rung an item has reached is :mod:`workflows.reminder_ladder`, the item
lines and the summaries the mails show are :mod:`workflows.reminder_views`.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from itertools import chain
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from models.checklist import ChecklistItem, ItemStatus, Role
from models.outbox import OutboxMessage
from models.reminder import ReminderLog
from models.unit import Unit, UnitKind
from notifications.links import unit_link
from notifications.outbox import enqueue_many
from notifications.render import render
from workflows.obligation import DEFAULT_LADDER, Ladder
from workflows.registry import item_ladders, item_titles
from workflows.reminder_ladder import LadderDates, Reached, rung_order
from workflows.reminder_views import ITEM_COLUMNS, ItemViews, behind_units, overdue_summary
from workflows.workcal import WorkCalendar, load_calendar
from zwgk.bulk import insert_rows
from zwgk.clock import utcnow
from zwgk.config import Settings

logger = logging.getLogger(f"zwgk.{__name__}")  # one hierarchy for the CLI to quiet


@dataclass
class SweepResult:
    today: date
    workday: bool = True
    # unit ("district name" when several districts) -> (item, rung)
    reminded: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (item, rung) passed over
    escalated: list[int] = field(default_factory=list)
    queued: int = 0  # digests to units
    units_behind: int = 0  # units with an item past its due date
    # recipient (labelled like ``reminded``) -> units listed, for the summaries queued
    office_summaries: dict[str, int] = field(default_factory=dict)
    lead_summaries: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "today": self.today.isoformat(),
            "workday": self.workday,
            "queued": self.queued,
            "reminded": {k: len(v) for k, v in self.reminded.items()},
            "skipped": len(self.skipped),
            "escalated": len(self.escalated),
            "units_behind": self.units_behind,
            "office_summaries": len(self.office_summaries),
            "lead_summaries": len(self.lead_summaries),
        }


LOOKUP_CHUNK = 5000  # ids per IN (...) lookup, well under SQLite's bound-parameter limit
INSERT_CHUNK = 5000  # reminder log rows per bulk INSERT
CHUNK_UNITS = 50  # units swept at a time: digests rendered and queued, then let go


@dataclass
class _Sweep:
    """What every chunk of one sweep shares, and what the summaries collect on the way."""

    session: Session
    settings: Settings
    today: date
    district: str | None
    cal: WorkCalendar
    result: SweepResult
    ladders: dict[str, Ladder]
    dates: LadderDates
    views: ItemViews
    logs: _LogWriter
    unit_by_id: dict[int, Unit]
    office_by_district: dict[str, Unit]
    offices: dict[str, Unit]  # district -> its office, which gets a summary today
    # Many items share a ladder, a due date and an assignment date: the rung reached and
    # the rungs passed over are computed once per combination.
    reached_at: dict[tuple[int, date, date | None], Reached | None] = field(default_factory=dict)
    passed_over: dict[tuple[Any, ...], list[str]] = field(default_factory=dict)
    overdue: dict[int, list[Any]] = field(default_factory=dict)  # unit -> its items past due
    told: dict[int, bool] = field(default_factory=dict)  # lead -> gets a summary
    by_lead: dict[int, dict[int, list[Any]]] = field(default_factory=dict)
    reminded: dict[int, list[tuple[int, str]]] = field(default_factory=dict)  # unit -> rungs
    # (district, obligation, period, step) -> its lead units, for the keys looked up so far
    leads: dict[tuple[str, str, str, str], list[int]] = field(default_factory=dict)

    several: bool | None = None  # known once every chunk is swept

    def label(self, unit: Unit) -> str:
        """A unit as the result names it (after the chunks): "district name" when units of
        several districts have reminders or items past due today."""
        if self.several is None:
            units = chain(self.reminded, self.overdue)
            self.several = len({self.unit_by_id[u].district for u in units}) > 1
        return f"{unit.district} {unit.name}" if self.several else unit.name


def sweep(
    *, session: Session, settings: Settings, today: date, district: str | None = None
) -> SweepResult:
    """Record the rungs reached today, queue one digest per unit, one overdue summary per
    district's office and one per lead unit with coordinated units behind. Caller commits.

    Works through the units ``CHUNK_UNITS`` at a time (their open items, logged rungs,
    digests); only the overdue items, which the summaries list, are kept to the end.
    """
    cal = load_calendar(session)
    result = SweepResult(today)
    if not cal.is_workday(today):
        result.workday = False
        return result
    s = _open_sweep(session, settings, today, district, cal, result)
    unit_ids = sorted(s.unit_by_id)
    for start in range(0, len(unit_ids), CHUNK_UNITS):
        chunk = unit_ids[start : start + CHUNK_UNITS]
        rows = _open_items(s, chunk)
        digest = _reach(s, rows, _logged(s, [r[0] for r in rows]))
        _queue_digests(s, digest, _coordinate(s, chunk))
    if result.skipped:
        logger.info(
            "skipped %d stale rungs after a gap: %s", len(result.skipped), result.skipped[:20]
        )
    _queue_summaries(s)
    s.logs.flush()
    result.reminded = {s.label(s.unit_by_id[u]): rungs for u, rungs in s.reminded.items()}
    return result


def _open_sweep(
    session: Session,
    settings: Settings,
    today: date,
    district: str | None,
    cal: WorkCalendar,
    result: SweepResult,
) -> _Sweep:
    """The sweep's shared state: the active units, the offices, which of them get a summary
    today (their district has an item past due), ladders and titles."""
    unit_stmt = select(Unit).where(Unit.active == True)  # noqa: E712
    late_stmt = (
        select(Unit.district)
        .join(ChecklistItem, col(ChecklistItem.unit_id) == col(Unit.id))
        .where(ChecklistItem.status == ItemStatus.pending)
        .where(col(ChecklistItem.due) < today)
        .where(Unit.active == True)  # noqa: E712
        .distinct()
    )
    if district:
        unit_stmt = unit_stmt.where(Unit.district == district)
        late_stmt = late_stmt.where(Unit.district == district)
    unit_by_id = {u.id: u for u in session.exec(unit_stmt)}
    office_by_district = {
        u.district: u
        for u in session.exec(select(Unit).where(Unit.kind == UnitKind.office, Unit.active == True))  # noqa: E712
    }
    offices: dict[str, Unit] = {}
    for d in sorted(set(session.exec(late_stmt))):
        office = office_by_district.get(d)
        if office is not None and office.email:
            offices[d] = office
        else:
            logger.warning("%s has no office unit with an email: overdue summary not queued", d)
    return _Sweep(
        session=session,
        settings=settings,
        today=today,
        district=district,
        cal=cal,
        result=result,
        ladders=item_ladders(),
        dates=LadderDates(cal),
        views=ItemViews(today, cal, item_titles()),
        logs=_LogWriter(session, today),
        unit_by_id=unit_by_id,  # type: ignore[arg-type]
        office_by_district=office_by_district,
        offices=offices,
    )


def _open_items(s: _Sweep, unit_ids: list[int]) -> list[Any]:
    """The units' open items as plain rows (ORM objects cost seconds and hundreds of MB
    for a city's ~100,000 open items)."""
    stmt = (
        sa_select(*ITEM_COLUMNS)
        .where(col(ChecklistItem.status) == ItemStatus.pending)
        .where(col(ChecklistItem.unit_id).in_(unit_ids))
        .order_by(col(ChecklistItem.unit_id), col(ChecklistItem.id))
    )
    # On the session's connection, not through the session: the ORM's row loading for
    # columns of a mapped class cost as much as the query.
    return list(s.session.connection().execute(stmt).all())


def _logged(s: _Sweep, item_ids: list[int]) -> dict[int, set[str]]:
    """The rungs already logged for these open items, looked up by item id (the log's
    unique key leads with it). Joining the items by unit and status instead let SQLite
    walk every pending item of the database through the status index for each chunk."""
    logged: dict[int, set[str]] = defaultdict(set)
    for start in range(0, len(item_ids), LOOKUP_CHUNK):
        stmt = select(ReminderLog.item_id, ReminderLog.rung).where(
            col(ReminderLog.item_id).in_(item_ids[start : start + LOOKUP_CHUNK])
        )
        for item_id, rung in s.session.connection().execute(stmt):
            logged[item_id].add(rung)
    return logged


def _reach(s: _Sweep, rows: list[Any], logged: dict[int, set[str]]) -> dict[int, list[Any]]:
    """Each item's latest rung reached today not yet logged: per unit (item, rung); the
    rungs passed over after a gap are logged as skipped. Items past due are kept for the
    summaries."""
    digest: dict[int, list[tuple[Any, Reached]]] = defaultdict(list)
    for item in rows:
        # Unpacked once: a row's attribute lookup costs more than the rest of the loop.
        iid, unit_id, obligation, _p, _s, _t, _r, due, _pv, assigned_on = item
        if due < s.today:
            s.overdue.setdefault(unit_id, []).append(item)
        ladder = s.ladders.get(obligation, DEFAULT_LADDER)
        key = (id(ladder), due, assigned_on)
        if key in s.reached_at:
            reached = s.reached_at[key]
        else:
            reached = s.reached_at[key] = s.dates.latest(ladder, due, s.today, assigned_on)
        if reached is None:
            continue
        done = logged.get(iid)
        last = -1  # the last rung already logged for this item
        if done:
            if reached.rung in done:
                continue
            last = max(rung_order(ladder, r) for r in done)
            if last >= reached.order:
                continue
        skips = _passed_over(s, ladder, key, last, reached)
        if skips:
            s.logs.add_skipped(iid, skips)
            s.result.skipped.extend((iid, slug) for slug in skips)
        digest[unit_id].append((item, reached))
    return digest


def _passed_over(
    s: _Sweep, ladder: Ladder, key: tuple[int, date, date | None], last: int, reached: Reached
) -> list[str]:
    """Rungs between the last one logged and the one reached: logged, not mailed."""
    skip_key = (*key, last, reached.order)
    skips = s.passed_over.get(skip_key)
    if skips is None:
        _, due, assigned_on = key
        skips = s.passed_over[skip_key] = [
            rung.slug
            for i, rung in enumerate(ladder.rungs)
            if last < i < reached.order
            and (assigned_on is None or s.dates.shift(due, rung.offset) > assigned_on)
        ]
    return skips


def _coordinate(s: _Sweep, unit_ids: list[int]) -> dict[int, set[int]]:
    """Who hears about the units' overdue items besides the office: the leads of the steps
    they are late on. Collects each lead's summary (a lead gets one unless it is the office,
    whose own summary lists every unit behind, or has no mailbox); returns per unit the
    leads told about it today."""
    late = {u: s.overdue[u] for u in unit_ids if u in s.overdue}
    coordinators = _coordinators(s.session, late, s.unit_by_id, s.leads)
    leads_of: dict[int, set[int]] = defaultdict(set)
    for lead_id in sorted(set(chain.from_iterable(coordinators.values())) - set(s.told)):
        lead = s.unit_by_id[lead_id]
        s.told[lead_id] = lead.kind != UnitKind.office and bool(lead.email)
        if lead.kind != UnitKind.office and not lead.email:
            logger.warning("lead unit %s has no email: its summary not queued", lead.name)
    for unit_id, items in late.items() if coordinators else ():
        district = s.unit_by_id[unit_id].district
        for item in items:
            _i, _u, obligation, period, step, _t, role, *_ = item
            if role == Role.lead:
                continue
            for lead_id in coordinators.get((district, obligation, period, step), ()):
                if lead_id != unit_id and s.told[lead_id]:
                    s.by_lead.setdefault(lead_id, {}).setdefault(unit_id, []).append(item)
                    leads_of[unit_id].add(lead_id)
    return leads_of


def _queue_digests(s: _Sweep, digest: dict[int, list[Any]], leads_of: dict[int, set[int]]) -> None:
    """Render the units' digests, queue them in bulk, log the rungs they carry."""
    digests: list[tuple[OutboxMessage, list[tuple[Any, Reached]]]] = []
    for unit_id, entries in digest.items():
        unit = s.unit_by_id[unit_id]
        if not unit.email:
            logger.warning("unit %s has no email; reminder not queued", unit.name)
            continue
        entries.sort(key=lambda e: (e[0].due, e[0].id or 0))
        digests.append((_digest(s, unit, entries, leads_of.get(unit_id, set())), entries))
        s.reminded[unit_id] = [(item.id, r.rung) for item, r in entries]
    if not digests:
        return
    new = {m.key for m in enqueue_many(session=s.session, messages=[m for m, _ in digests])}
    s.result.queued += sum(1 for m, _ in digests if m.key in new)
    for message, entries in digests:
        for item, rung in entries:
            s.logs.add(item.id, rung.rung, message.id)


def _digest(s: _Sweep, unit: Unit, entries: list[Any], leads: set[int]) -> OutboxMessage:
    """One unit's digest of the rungs its items reached today."""
    escalations = [item for item, r in entries if r.escalate]
    s.result.escalated += [i.id for i in escalations]
    shown = [s.views.get(item) for item, _ in entries]
    pairs = sorted(f"{item.id}:{r.rung}" for item, r in entries)
    rendered = render(
        "reminder",
        "reminder",
        unit=unit,
        overdue=[v for v in shown if v.overdue],
        upcoming=[v for v in shown if not v.overdue],
        today=s.today,
        link=unit_link(unit.id, s.settings),  # type: ignore[arg-type]
        escalation=bool(escalations),
        office=s.office_by_district.get(unit.district),
        reported=unit.district in s.offices and unit.kind != UnitKind.office,
        lead_names=[s.unit_by_id[i].name for i in sorted(leads)],
        subject="",
    )
    return OutboxMessage(
        key=f"reminder:unit={unit.id}:{s.today.isoformat()}:"
        + hashlib.sha1("|".join(pairs).encode()).hexdigest()[:12],
        recipient=unit.email,
        unit_id=unit.id,
        obligation="reminders",
        period=s.today.isoformat(),
        kind="escalation" if escalations else "reminder",
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html,
        cc=[],  # every field given: pydantic inspects a default_factory per object
        created_at=utcnow(),
    )


def _queue_summaries(s: _Sweep) -> None:
    """One summary per office (every unit of its district behind), one per lead."""
    result, unit_by_id = s.result, s.unit_by_id
    result.units_behind = len(s.overdue)
    summaries: list[tuple[OutboxMessage, str, int]] = []
    for d, office in s.offices.items():
        units = [u for u in s.overdue if unit_by_id[u].district == d]
        behind = behind_units(units, s.overdue, unit_by_id, s.views)
        summaries.append(
            (
                overdue_summary(office, behind, lead=False, today=s.today),
                s.label(office),
                len(behind),
            )
        )
    for lead_id, late_units in s.by_lead.items():
        lead = unit_by_id[lead_id]
        behind = behind_units(list(late_units), late_units, unit_by_id, s.views)
        summaries.append(
            (overdue_summary(lead, behind, lead=True, today=s.today), s.label(lead), len(behind))
        )
    new = {m.key for m in enqueue_many(session=s.session, messages=[m for m, _, _ in summaries])}
    for message, who, n in summaries:
        if message.key in new:
            target = (
                result.office_summaries
                if message.kind == "overdue-summary"
                else result.lead_summaries
            )
            target[who] = n


class _LogWriter:
    """Reminder log rows, inserted in bulk in the order they were added."""

    COLUMNS = ("item_id", "rung", "on", "skipped", "outbox_id", "created_at")

    def __init__(self, session: Session, on: date) -> None:
        self.session = session
        self.on = on
        self.now = utcnow()
        self.rows: list[tuple[Any, ...]] = []

    def add(self, item_id: int, rung: str, outbox_id: int | None) -> None:
        """A rung sent today in the digest ``outbox_id``."""
        self.rows.append((item_id, rung, self.on, False, outbox_id, self.now))
        if len(self.rows) >= INSERT_CHUNK:
            self.flush()

    def add_skipped(self, item_id: int, rungs: list[str]) -> None:
        """Rungs passed over today after a gap: logged, never mailed."""
        self.rows.extend((item_id, rung, self.on, True, None, self.now) for rung in rungs)
        if len(self.rows) >= INSERT_CHUNK:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            insert_rows(
                self.session,
                ReminderLog.__table__,  # type: ignore[attr-defined]
                self.COLUMNS,
                self.rows,
            )
            self.rows = []


def _coordinators(
    session: Session,
    overdue: dict[int, list[Any]],
    unit_by_id: dict[int, Unit],
    known: dict[tuple[str, str, str, str], list[int]],
) -> dict[tuple[str, str, str, str], list[int]]:
    """The lead units (牵头单位) of each step on which a non-lead unit is overdue, keyed by
    (district, obligation, period, step): one query for the keys not yet looked up, none
    when no such item exists.

    Only steps with a late non-lead unit are looked up, so a step whose units are all leads
    (``各单位`` with no 牵头 named makes every unit a lead) has nobody coordinating. A lead
    coordinates whether its own item is done or not; inactive leads are left out.

    ``known`` keeps the keys looked up by earlier chunks of the same sweep, so each is read
    once (per chunk, the lookup read every lead item of the database again: 0.9 s of a
    city sweep, and growing with the square of a large district's size).
    """
    wanted = {
        (unit_by_id[unit_id].district, obligation, period, step)
        for unit_id, items in overdue.items()
        for _i, _u, obligation, period, step, _t, role, *_ in items
        if role != Role.lead
    }
    missing = wanted - known.keys()
    if missing:
        _look_up_leads(session, missing, unit_by_id, known)
    return {k: known[k] for k in wanted if known[k]}


def _look_up_leads(
    session: Session,
    wanted: set[tuple[str, str, str, str]],
    unit_by_id: dict[int, Unit],
    found: dict[tuple[str, str, str, str], list[int]],
) -> None:
    """Add the lead units of each ``wanted`` key to ``found`` (an empty list for none)."""
    for key in wanted:
        found[key] = []
    obligations = sorted({k[1] for k in wanted})
    periods = sorted({k[2] for k in wanted})
    districts = sorted({k[0] for k in wanted})
    stmt = (
        select(
            ChecklistItem.obligation,
            ChecklistItem.period,
            ChecklistItem.step,
            ChecklistItem.unit_id,
        )
        .where(ChecklistItem.role == Role.lead)
        .where(col(ChecklistItem.obligation).in_(obligations))
        .where(
            col(ChecklistItem.unit_id).in_(select(Unit.id).where(col(Unit.district).in_(districts)))
        )
        .order_by(col(ChecklistItem.unit_id))
    )
    if len(periods) <= 500:  # event items carry a date each: then filter here instead
        stmt = stmt.where(col(ChecklistItem.period).in_(periods))
    steps = sorted({k[3] for k in wanted})
    if len(steps) <= 500:
        stmt = stmt.where(col(ChecklistItem.step).in_(steps))
    for obligation, period, step, unit_id in session.execute(stmt):
        unit = unit_by_id.get(unit_id)
        if unit is None:
            continue
        key = (unit.district, obligation, period, step)
        if key in wanted and unit_id not in found[key]:
            found[key].append(unit_id)
