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
* An escalation rung copies the lead unit(s) of the same task and the office (政务公开办);
  a task whose units are all leads (各单位) copies only the office.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import chain
from typing import Any

from sqlalchemy import and_, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from zwgk.bulk import insert_rows
from zwgk.config import Settings
from zwgk.db import utcnow
from zwgk.models.checklist import ROLE_LABELS, ChecklistItem, ItemStatus, Role
from zwgk.models.outbox import OutboxMessage
from zwgk.models.reminder import ReminderLog
from zwgk.models.unit import Unit, UnitKind
from zwgk.notifications.outbox import enqueue_many
from zwgk.notifications.render import render
from zwgk.obligation import DEFAULT_LADDER, Ladder
from zwgk.workcal import WorkCalendar, load_calendar

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reached:
    rung: str
    order: int  # position on the ladder (weekly-N after every fixed rung)
    on: date
    title: str
    escalate: bool


class LadderDates:
    """Rung dates per due date, computed once per sweep (many items share a due date)."""

    def __init__(self, cal: WorkCalendar) -> None:
        self.cal = cal
        self._cache: dict[tuple[date, int], date] = {}

    def shift(self, due: date, offset: int) -> date:
        key = (due, offset)
        if key not in self._cache:
            if offset == 0:
                self._cache[key] = due
            else:
                self._cache[key] = self.cal.add_workdays(due, offset).date
        return self._cache[key]

    def latest(self, ladder: Ladder, due: date, today: date, after: date | None) -> Reached | None:
        """The latest rung reached by ``today`` that falls after ``after`` (the assignment)."""
        best: Reached | None = None
        last_fixed: date | None = None
        for i, rung in enumerate(ladder.rungs):
            on = self.shift(due, rung.offset)
            last_fixed = on
            if on <= today and (after is None or on > after):
                best = Reached(rung.slug, i, on, rung.title, rung.escalate)
        if ladder.weekly_days and last_fixed is not None and today > last_fixed:
            n = (today - last_fixed).days // ladder.weekly_days
            on = last_fixed + timedelta(days=n * ladder.weekly_days)
            if n >= 1 and (after is None or on > after):
                best = Reached(
                    f"weekly-{n}",
                    len(ladder.rungs) + n,
                    on,
                    f"逾期第{n}周催办",
                    ladder.weekly_escalate,
                )
        return best


def rung_order(ladder: Ladder, slug: str) -> int:
    for i, r in enumerate(ladder.rungs):
        if r.slug == slug:
            return i
    if slug.startswith("weekly-"):
        return len(ladder.rungs) + int(slug.split("-", 1)[1])
    return -1


@dataclass
class SweepResult:
    today: date
    workday: bool = True
    # unit ("district name" when several districts) -> (item, rung)
    reminded: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (item, rung) passed over
    escalated: list[int] = field(default_factory=list)
    queued: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "today": self.today.isoformat(),
            "workday": self.workday,
            "queued": self.queued,
            "reminded": {k: len(v) for k, v in self.reminded.items()},
            "skipped": len(self.skipped),
            "escalated": len(self.escalated),
        }


INSERT_CHUNK = 5000  # reminder log rows per bulk INSERT


def sweep(
    *, session: Session, settings: Settings, today: date, district: str | None = None
) -> SweepResult:
    """Record the rungs reached today and queue one digest per unit. Caller commits."""
    from zwgk.web.tokens import unit_link

    cal = load_calendar(session)
    result = SweepResult(today)
    if not cal.is_workday(today):
        result.workday = False
        return result
    from zwgk.workflows.registry import item_ladders, item_titles

    ladders = item_ladders()
    titles = item_titles()
    dates = LadderDates(cal)

    # Open items as plain rows (a city has ~100,000 open items: ORM objects cost seconds
    # and hundreds of MB here), their units once each.
    stmt = (
        sa_select(*ITEM_COLUMNS)
        .join(Unit, col(Unit.id) == col(ChecklistItem.unit_id))
        .where(ChecklistItem.status == ItemStatus.pending)
        .where(Unit.active == True)  # noqa: E712
    )
    log_stmt = (
        select(ReminderLog.item_id, ReminderLog.rung)
        .join(ChecklistItem, col(ChecklistItem.id) == col(ReminderLog.item_id))
        .join(Unit, col(Unit.id) == col(ChecklistItem.unit_id))
        .where(ChecklistItem.status == ItemStatus.pending)
        .where(Unit.active == True)  # noqa: E712
    )
    unit_stmt = select(Unit).where(Unit.active == True)  # noqa: E712
    if district:
        stmt = stmt.where(Unit.district == district)
        log_stmt = log_stmt.where(Unit.district == district)
        unit_stmt = unit_stmt.where(Unit.district == district)
    rows = session.execute(stmt).all()
    logged: dict[int, set[str]] = defaultdict(set)
    for item_id, rung in session.execute(log_stmt):
        logged[item_id].add(rung)
    unit_by_id = {u.id: u for u in session.exec(unit_stmt)}
    logs = _LogWriter(session, today)

    # Many items share a ladder, a due date and an assignment date: the rung reached and
    # the rungs passed over are computed once per combination.
    reached_at: dict[tuple[int, date, date | None], Reached | None] = {}
    passed_over: dict[tuple[int, date, date | None, int, int], list[str]] = {}
    digest: dict[int, list[tuple[Any, Reached]]] = defaultdict(list)
    units: dict[int, Unit] = {}
    for item in rows:
        ladder = ladders.get(item.obligation, DEFAULT_LADDER)
        key = (id(ladder), item.due, item.assigned_on)
        if key in reached_at:
            reached = reached_at[key]
        else:
            reached = reached_at[key] = dates.latest(ladder, item.due, today, item.assigned_on)
        if reached is None:
            continue
        done = logged.get(item.id)
        last = -1  # the last rung already logged for this item
        if done:
            if reached.rung in done:
                continue
            last = max(rung_order(ladder, r) for r in done)
            if last >= reached.order:
                continue
        # Rungs between the last one logged and this one: passed over, logged, not mailed.
        skip_key = (*key, last, reached.order)
        skips = passed_over.get(skip_key)
        if skips is None:
            skips = passed_over[skip_key] = [
                rung.slug
                for i, rung in enumerate(ladder.rungs)
                if last < i < reached.order
                and (
                    item.assigned_on is None
                    or dates.shift(item.due, rung.offset) > item.assigned_on
                )
            ]
        if skips:
            logs.add_skipped(item.id, skips)
            result.skipped.extend((item.id, slug) for slug in skips)
        digest[item.unit_id].append((item, reached))
        units[item.unit_id] = unit_by_id[item.unit_id]
    if result.skipped:
        logger.info(
            "skipped %d stale rungs after a gap: %s", len(result.skipped), result.skipped[:20]
        )

    office_by_district = {
        u.district: u
        for u in session.exec(select(Unit).where(Unit.kind == UnitKind.office, Unit.active == True))  # noqa: E712
    }
    leads = _LeadEmails(
        session,
        {(item.obligation, item.period) for e in digest.values() for item, r in e if r.escalate},
    )
    when: dict[date, str] = {}
    districts = {u.district for u in units.values()}  # names repeat across districts
    digests: list[tuple[OutboxMessage, list[tuple[Any, Reached]]]] = []
    for unit_id, entries in digest.items():
        unit = units[unit_id]
        entries.sort(key=lambda e: (e[0].due, e[0].id or 0))
        cc: list[str] = []
        escalations = [item for item, r in entries if r.escalate]
        if escalations:
            cc = _escalation_cc(leads, escalations, office_by_district.get(unit.district), unit)
            result.escalated += [i.id for i in escalations]
        views = [_view(item, r, today, cal, titles, when) for item, r in entries]
        pairs = sorted(f"{item.id}:{r.rung}" for item, r in entries)
        msg_key = (
            f"reminder:unit={unit_id}:{today.isoformat()}:"
            + hashlib.sha1("|".join(pairs).encode()).hexdigest()[:12]
        )
        rendered = render(
            "reminder",
            "reminder",
            unit=unit,
            items=views,
            today=today,
            link=unit_link(unit_id, settings),
            escalation=bool(escalations),
            subject="",
        )
        message = OutboxMessage(
            key=msg_key,
            recipient=unit.email,
            cc=cc,
            unit_id=unit_id,
            obligation="reminders",
            period=today.isoformat(),
            kind="escalation" if escalations else "reminder",
            subject=rendered.subject,
            body_text=rendered.text,
            body_html=rendered.html,
        )
        if not unit.email:
            logger.warning("unit %s has no email; reminder not queued", unit.name)
            continue
        digests.append((message, entries))
        label = unit.name if len(districts) == 1 else f"{unit.district} {unit.name}"
        result.reminded[label] = [(item.id, r.rung) for item, r in entries]
    result.queued = len(enqueue_many(session=session, messages=[m for m, _ in digests]))
    for message, entries in digests:
        for item, rung in entries:
            logs.add(item.id, rung.rung, message.id)
    logs.flush()
    return result


# What the sweep reads of an open item (``_view`` and ``_escalation_cc`` take these rows).
ITEM_COLUMNS = (
    ChecklistItem.id,
    ChecklistItem.unit_id,
    ChecklistItem.obligation,
    ChecklistItem.period,
    ChecklistItem.step,
    ChecklistItem.step_title,
    ChecklistItem.role,
    ChecklistItem.due,
    ChecklistItem.provisional,
    ChecklistItem.assigned_on,
)


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
                ReminderLog.__table__,  # type: ignore[arg-type]
                self.COLUMNS,
                self.rows,
            )
            self.rows = []


class _LeadEmails:
    """Mailboxes of the lead units (牵头单位) of each step that has other units to coordinate,
    for the obligation periods escalated today (two queries, not one per escalated item).

    A step whose units are all leads (``各单位`` with no 牵头 named makes every unit a lead)
    has nobody coordinating: its escalations copy only the office, not every other unit.
    """

    def __init__(self, session: Session, periods: set[tuple[str, str]]) -> None:
        self.by_step: dict[tuple[str, str, str], list[str]] = defaultdict(list)
        if not periods:
            return
        in_periods = or_(
            *(and_(ChecklistItem.obligation == o, ChecklistItem.period == p) for o, p in periods)
        )
        coordinated = set(
            session.execute(
                select(ChecklistItem.obligation, ChecklistItem.period, ChecklistItem.step)
                .where(ChecklistItem.role != Role.lead)
                .where(in_periods)
                .distinct()
            ).tuples()
        )
        if not coordinated:
            return
        stmt = (
            select(ChecklistItem.obligation, ChecklistItem.period, ChecklistItem.step, Unit.email)
            .join(ChecklistItem, col(ChecklistItem.unit_id) == col(Unit.id))
            .where(ChecklistItem.role == Role.lead)
            .where(in_periods)
            .order_by(col(ChecklistItem.unit_id), col(ChecklistItem.id))
        )
        for obligation, period, step, email in session.execute(stmt):
            if email and (obligation, period, step) in coordinated:
                self.by_step[(obligation, period, step)].append(email)

    def get(self, obligation: str, period: str, step: str) -> list[str]:
        return self.by_step.get((obligation, period, step), [])


def _escalation_cc(
    leads: _LeadEmails, items: list[Any], office: Unit | None, unit: Unit
) -> list[str]:
    """Lead units of the same obligation period and step (where they coordinate others),
    plus the office."""
    # dict.fromkeys: unique, in first-seen order (a unit's 100 items × 60 leads each).
    emails = dict.fromkeys(
        chain.from_iterable(leads.get(i.obligation, i.period, i.step) for i in items)
    )
    if office is not None and office.email:
        emails.setdefault(office.email)
    return [e for e in emails if e and e != unit.email]


@dataclass(slots=True)
class ItemView:
    """One line of a reminder digest (an object: see ``engine.ItemView``)."""

    id: int
    obligation_title: str
    period: str
    step_title: str
    role_label: str
    due: date
    when: str
    overdue: bool
    rung_title: str
    provisional: bool


def _view(
    item: Any,
    reached: Reached,
    today: date,
    cal: WorkCalendar,
    titles: dict[str, str],
    when: dict[date, str],
) -> ItemView:
    if item.due not in when:
        left = cal.workdays_between(today, item.due)
        if item.due >= today:
            when[item.due] = "今日截止" if item.due == today else f"还剩 {left} 个工作日"
        else:
            when[item.due] = f"已逾期 {-left} 个工作日" if left < 0 else "已逾期"
    return ItemView(
        id=item.id,
        obligation_title=titles.get(item.obligation, item.obligation),
        period=item.period,
        step_title=item.step_title,
        role_label=ROLE_LABELS[Role(item.role)],
        due=item.due,
        when=when[item.due],
        overdue=item.due < today,
        rung_title=reached.title,
        provisional=item.provisional,
    )
