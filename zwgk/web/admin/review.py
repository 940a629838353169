"""Review of units' submissions (审核): the list awaiting review, 通过 and 退回 on the item
view, and downloads of the files units attached (any logged-in account that may see the
item's district: viewers read everything)."""

from __future__ import annotations

import logging
from typing import Any

from sqlmodel import Session, select
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from models.checklist import ChecklistItem
from models.outbox import OutboxMessage
from models.submission import REVIEW_LABELS, Attachment, ReviewState, Submission
from models.unit import Unit
from notifications.outbox_send import dispatch
from notifications.render import cn_period
from workflows.registry import item_titles
from workflows.submissions import (
    accept,
    awaiting_review,
    item_submissions,
    latest_submission,
    send_back,
)
from zwgk.config import get_settings
from zwgk.db import session_scope
from zwgk.web.admin.common import ItemWork, Principal, action, item_action, refusal, view
from zwgk.web.files import attachment_response
from zwgk.web.limits import small_int

logger = logging.getLogger(__name__)


def item_context(item_id: int) -> dict[str, Any]:
    """What the item view shows of the item's submissions (newest last) and whether one
    awaits review."""
    with session_scope() as s:
        subs = item_submissions(session=s, item_id=item_id)
    rows = [
        {
            "id": sub.id,
            "at": sub.at,
            "by": sub.by,
            "evidence": sub.evidence or "",
            "note": sub.note or "",
            "nil_reason": sub.nil_reason or "",
            "review": str(sub.review),
            "review_label": REVIEW_LABELS[ReviewState(sub.review)],
            "reviewed_by": sub.reviewed_by or "",
            "return_reason": sub.return_reason or "",
            "files": atts,
        }
        for sub, atts in subs
    ]
    awaiting = bool(rows) and rows[-1]["review"] == ReviewState.awaiting
    return {"submissions": rows, "awaiting": awaiting}


def awaiting_for(who: Principal) -> list[dict[str, Any]]:
    """待审核 submissions in the districts the account sees, oldest first."""
    titles = item_titles()
    with session_scope() as s:
        rows = awaiting_review(session=s)
    return [
        {
            "item_id": item.id,
            "title": titles.get(item.obligation, item.obligation),
            "period": cn_period(item.period),
            "unit": unit.name,
            "district": unit.district,
            "at": sub.at,
        }
        for sub, item, unit in rows
        if who.may_see(unit.district)
    ]


def download(request: Request, who: Principal) -> Response:
    """An attached file, for an account that may see its unit's district."""
    file_id = request.path_params["file_id"]
    with session_scope() as s:
        att_id = small_int(file_id)
        att = s.get(Attachment, att_id) if att_id is not None else None
        unit = s.get(Unit, att.unit_id) if att else None
    if att is None or unit is None:
        return refusal(404, "附件不存在", f"没有编号为「{file_id}」的附件。", who)
    if not who.may_see(unit.district):
        return refusal(403, "无权查看", f"该附件属于{unit.district}，不在您账号的管辖范围内。", who)
    return attachment_response(att)


def _review(request: Request, who: Principal, what: str, work: ItemWork) -> Response:
    """通过 or 退回, once: when the item's latest submission was already reviewed (a
    double-submitted form, or a colleague was quicker), nothing is written and the item page
    says so (``?done=reviewed``) instead of an error page."""
    already: list[bool] = []

    def once(s: Session, item: ChecklistItem, unit: Unit) -> object:
        sub = latest_submission(session=s, item_id=item.id)  # type: ignore[arg-type]
        if sub is not None and sub.review in (ReviewState.accepted, ReviewState.returned):
            already.append(True)
            return None
        return work(s, item, unit)

    response = item_action(request, who, what, once)
    if already and response.status_code == 303:
        location = response.headers["location"].split("?", 1)[0]
        return RedirectResponse(f"{location}?done=reviewed", status_code=303)
    return response


def accept_item(request: Request, who: Principal, form: dict[str, str]) -> Response:
    return _review(
        request,
        who,
        "accept",
        lambda s, item, _unit: accept(session=s, item_id=item.id, by=who.name),  # type: ignore[arg-type]
    )


def return_item(request: Request, who: Principal, form: dict[str, str]) -> Response:
    """退回: the item reopens and the unit's mail quoting the reason is queued in the same
    transaction, then sent right after the response (the office does not wait for the mail
    server; a failure leaves it queued for the outbox run, as any other mail)."""
    returned: list[Submission] = []

    def work(s: Session, item: ChecklistItem, _unit: Unit) -> None:
        returned.append(
            send_back(
                session=s,
                item_id=item.id,  # type: ignore[arg-type]
                by=who.name,
                reason=form.get("reason", ""),
                settings=get_settings(),
            )
        )

    response = _review(request, who, "return", work)
    if returned and response.status_code == 303:
        response.background = BackgroundTask(_send_returned, f"returned:{returned[0].id}")
    return response


def _send_returned(key: str) -> None:
    with session_scope() as s:
        ids = [i for i in s.exec(select(OutboxMessage.id).where(OutboxMessage.key == key)) if i]
    if not ids:
        return  # the unit has no address: nothing was queued
    try:
        report = dispatch(settings=get_settings(), ids=ids, respect_backoff=False)
    except Exception as exc:  # the outbox run sends it later; the return itself stands
        logger.warning("return mail %s not sent now: %s", key, exc)
        return
    if not report.sent:
        logger.warning("return mail %s not sent now: %s", key, report.summary())


routes = [
    Route("/files/{file_id}", view(download), methods=["GET"]),
    Route("/items/{item_id}/accept", action(accept_item), methods=["POST"]),
    Route("/items/{item_id}/return", action(return_item), methods=["POST"]),
]
