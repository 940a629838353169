"""The monthly 通报 mailed to the office and the leaders (the ``bulletin`` deployment).

On the first working day of a month (Chinese working days, ``workflows.workcal``: after a
holiday such as 国庆 the first day back) last month's 通报 is built for each district as a
DOCX and queued in the outbox to the district's office unit, with the addresses configured as
its leaders (``ZWGK_LEADERS``, or ``leaders`` in the district's ``ZWGK_OFFICES`` entry) in
Cc. The deployment runs every morning of the month's first days; a day before the first
working day queues nothing, and a later day of the window queues what is still missing (a
run missed on the day is made up the next morning). Each message's key is
``bulletin:<district>:<month>``: a rerun for the same month queues nothing, and two runs at
once collide on it (``zwgk.db.transact`` retries the loser, which then finds the message).
A district without an office email and without leaders is reported, not mailed. A month
given by hand must be over: a 通报 of a month still running would report partial figures and,
holding the month's key, keep the real one from being mailed after the month ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session, select

from models.directory import districts
from models.outbox import OutboxAttachment, OutboxMessage
from models.unit import Unit, UnitKind
from notifications.outbox import enqueue
from notifications.render import render
from workflows.documents import CONTENT_TYPES, district_bulletin
from workflows.workcal import WorkCalendar, load_calendar
from zwgk.config import Settings
from zwgk.errors import UserError
from zwgk.periods import Cadence, Period

BULLETIN = "bulletin"  # OutboxMessage.obligation and kind


def first_workday(cal: WorkCalendar, year: int, month: int) -> date:
    """The month's first working day (1 October → the first day after 国庆)."""
    return cal.next_workday(date(year, month, 1)).date


def previous_month(d: date) -> Period:
    return Period(Cadence.monthly, d.year - (d.month == 1), 12 if d.month == 1 else d.month - 1)


def bulletin_month(period: str | None, today: date) -> Period:
    """The month a run on ``today`` mails: ``period`` (a month given by hand), else last
    month. ``UserError`` for a month not over on ``today`` (its last day included)."""
    month = Period.parse(period, Cadence.monthly) if period else previous_month(today)
    if month.end >= today:
        raise UserError(f"{month.label}尚未结束，不能发送该月通报。")
    return month


@dataclass(frozen=True)
class Addressee:
    """Whom the mail greets when the district has no office unit (only leaders get it)."""

    name: str
    district: str


@dataclass
class BulletinRun:
    """What one run did: the month it mailed, and per district what became of its mail."""

    today: date
    due: bool  # today is on or after the month's first working day
    first_workday: date
    period: str = ""
    queued: list[str] = field(default_factory=list)  # districts
    existing: list[str] = field(default_factory=list)  # already queued by an earlier run
    no_recipient: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "today": self.today.isoformat(),
            "due": self.due,
            "first_workday": self.first_workday.isoformat(),
            "period": self.period,
            "queued": self.queued,
            "existing": self.existing,
            "no_recipient": self.no_recipient,
        }


def queue_bulletins(
    *,
    session: Session,
    settings: Settings,
    today: date,
    district: str | None = None,
    period: str | None = None,
) -> BulletinRun:
    """Queue last month's 通报 (or ``period``'s, a month given by hand: due whatever the day)
    for each district (or ``district``) not mailed yet; ``UserError`` for a month not over
    yet. The caller commits."""
    cal = load_calendar(session)
    first = first_workday(cal, today.year, today.month)
    run = BulletinRun(today, due=period is not None or today >= first, first_workday=first)
    if not run.due:
        return run
    month = bulletin_month(period, today)
    run.period = str(month)
    for d in [district] if district else districts(session=session):
        key = f"{BULLETIN}:{d}:{month}"
        if session.exec(select(OutboxMessage.id).where(OutboxMessage.key == key)).first():
            run.existing.append(d)
            continue
        office = session.exec(
            select(Unit).where(
                Unit.district == d,
                Unit.kind == UnitKind.office,
                Unit.active == True,  # noqa: E712
            )
        ).first()
        leaders = list(settings.office_for(d).leaders)
        recipients = ([office.email] if office is not None and office.email else []) + leaders
        if not recipients:
            run.no_recipient.append(d)
            continue
        b = district_bulletin(
            session=session, period=str(month), today=today, settings=settings, district=d
        )
        from zwgk.reports.bulletin_docx import to_docx  # python-docx is heavy

        filename = f"{d}{b.title}.docx"
        addressee = office if office is not None else Addressee("各位领导", d)
        behind = sorted(
            ((s.unit, s.counts.overdue) for s in b.ranking if s.counts.overdue),
            key=lambda e: (-e[1], e[0]),
        )[:5]
        rendered = render(
            "bulletin",
            BULLETIN,
            unit=addressee,
            office=office,
            bulletin=b,
            sentences=b.summary_sentences(),
            behind=behind,
            leaders=leaders,
            filename=filename,
            today=today,
            subject="",
        )
        message = OutboxMessage(
            key=key,
            recipient=recipients[0],
            cc=recipients[1:],
            unit_id=office.id if office is not None else None,
            obligation=BULLETIN,
            period=str(month),
            kind=BULLETIN,
            subject=rendered.subject,
            body_text=rendered.text,
            body_html=rendered.html,
        )
        enqueue(session=session, message=message)
        session.flush()
        session.add(
            OutboxAttachment(
                outbox_id=message.id,  # type: ignore[arg-type]
                filename=filename,
                mime_type=CONTENT_TYPES["docx"],
                data=to_docx(b),
            )
        )
        run.queued.append(d)
    return run
