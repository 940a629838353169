"""The outbox from the workbench (/admin/outbox): every message to the units the account
sees, by status, newest first, a page at a time; admins retry a failed or waiting message,
or all of them, as ``zwgk outbox retry`` does (put back, then sent at once), audited.

A message belongs to its unit's district; one to no unit is seen only by accounts not
limited to a district.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from models.outbox import STATUS_LABELS, OutboxMessage, OutboxStatus
from models.unit import Unit
from notifications.outbox import counts, outbox_page, retry, retryable_ids
from notifications.outbox_send import dispatch
from notifications.render import cn_time
from zwgk.access.audit import record
from zwgk.config import get_settings
from zwgk.db import session_scope
from zwgk.web.admin.common import Principal, action, page, refusal, view
from zwgk.web.limits import small_int

PAGE_SIZE = 50
NOTICE = "outbox_notice"  # the outcome of a retry, shown once on the list it returns to


def _list_url(status: str = "", page_no: int = 1) -> str:
    params = {k: v for k, v in (("status", status), ("page", page_no)) if v and v != 1}
    return "/admin/outbox" + ("?" + urlencode(params) if params else "")


def outbox_list(request: Request, who: Principal) -> Response:
    """发件箱: what was sent, what waits and what failed, with the reason."""
    status = request.query_params.get("status", "")
    if status not in STATUS_LABELS:
        status = ""
    page_no = max(small_int(request.query_params.get("page")) or 1, 1)
    with session_scope() as s:
        totals = counts(session=s, district=who.district)
        found = outbox_page(
            session=s,
            status=status or None,
            district=who.district,
            offset=(page_no - 1) * PAGE_SIZE,
            limit=PAGE_SIZE,
        )
        waiting = len(retryable_ids(session=s, district=who.district)) if who.is_admin else 0
    pages = max((found.total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    if page_no > pages:  # an old link, or the last page emptied by 重试: show the last one
        return RedirectResponse(_list_url(status, pages), status_code=303)
    rows: list[dict[str, Any]] = [
        {
            "id": m.id,
            "status": str(m.status),
            "status_label": STATUS_LABELS[OutboxStatus(m.status)],
            "unit": unit or m.recipient,
            "district": district,
            "recipient": m.recipient,
            "subject": m.subject,
            "attempts": m.attempts,
            "last_error": m.last_error or "",
            "created_at": m.created_at,
            "sent_at": m.sent_at,
            "next_attempt_at": m.next_attempt_at,
            "retryable": m.status == OutboxStatus.failed
            or (m.status == OutboxStatus.pending and m.attempts > 0),
        }
        for m, unit, district in found.rows
    ]
    notice = request.session.pop(NOTICE, None)
    return page(
        "admin/outbox.html",
        who=who,
        rows=rows,
        current=status,
        labels={str(k): v for k, v in STATUS_LABELS.items()},
        totals=totals,
        total_all=sum(totals.values()),
        found=found.total,
        page_no=page_no,
        pages=pages,
        prev_url=_list_url(status, page_no - 1) if page_no > 1 else "",
        next_url=_list_url(status, page_no + 1) if page_no < pages else "",
        list_url=_list_url,
        waiting=waiting,
        notice=notice if isinstance(notice, dict) else None,
        several_districts=who.district is None,
        cn_time=cn_time,
    )


def _back(form: dict[str, str]) -> str:
    status = form.get("status", "")
    return _list_url(status if status in STATUS_LABELS else "", small_int(form.get("page")) or 1)


def _send_now(request: Request, ids: list[int], queued: str, back: str) -> Response:
    """Send the messages put back at once (as ``zwgk outbox retry``) and return to the list
    with what happened."""
    report = dispatch(settings=get_settings(), ids=ids, respect_backoff=False)
    request.session[NOTICE] = {
        "ok": report.ok,
        "text": f"{queued}{report.summary()}。",
        "errors": report.errors()[:10],
    }
    return RedirectResponse(back, status_code=303)


def retry_one(request: Request, who: Principal, form: dict[str, str]) -> Response:
    """Put one failed or waiting message back and send it now."""
    raw = request.path_params["message_id"]
    back = _back(form)
    with session_scope() as s:
        wanted = small_int(raw)
        msg = s.get(OutboxMessage, wanted) if wanted is not None else None
        unit = s.get(Unit, msg.unit_id) if msg is not None and msg.unit_id else None
        if msg is None:
            return refusal(
                404, "邮件不存在", f"发件箱中没有编号为「{raw}」的邮件。", who, back=back
            )
        district = unit.district if unit is not None else None
        if who.district is not None and district != who.district:
            return refusal(
                403,
                "无权操作",
                f"邮件 #{msg.id} 不是发往{who.district}的单位，不在您账号的管辖范围内，未作任何改动。",
                who,
                back=back,
            )
        before = {"status": str(msg.status), "attempts": msg.attempts, "last_error": msg.last_error}
        if not retry(session=s, ids=[msg.id]):  # type: ignore[list-item]
            s.refresh(msg)
            return refusal(
                409,
                "无需重试",
                f"邮件 #{msg.id} 状态为「{STATUS_LABELS[OutboxStatus(msg.status)]}」，"
                "不是发送失败或等待重试的邮件，未作任何改动（可能已由他人或刚才的操作重试）。",
                who,
                back=back,
            )
        record(
            session=s,
            user=who.name,
            action="outbox-retry",
            target=f"outbox {msg.id}",
            district=district,
            detail=f"重试发送邮件 #{msg.id}「{msg.subject}」（收件人 {unit.name if unit else msg.recipient}）",
            before=before,
            after={"status": "pending", "attempts": 0},
        )
        mid: int = msg.id  # type: ignore[assignment]
    return _send_now(request, [mid], f"邮件 #{mid} 已重新排队并发送：", back)


def retry_all(request: Request, who: Principal, form: dict[str, str]) -> Response:
    """Put every failed or waiting message the account may act on back, and send them now."""
    back = _back(form)
    with session_scope() as s:
        ids = retryable_ids(session=s, district=who.district)
        n = retry(session=s, ids=ids) if ids else 0
        if n:
            scope = f"{who.district}的" if who.district else ""
            record(
                session=s,
                user=who.name,
                action="outbox-retry",
                target="outbox",
                district=who.district,
                detail=f"重试{scope}全部发送失败和等待重试的邮件，共 {n} 封",
                after={"count": n, "ids": ids[:200]},
            )
    if not n:
        request.session[NOTICE] = {
            "ok": True,
            "text": "没有发送失败或等待重试的邮件，未作任何改动。",
            "errors": [],
        }
        return RedirectResponse(back, status_code=303)
    return _send_now(request, ids, f"{n} 封邮件已重新排队并发送：", back)


routes = [
    Route("/outbox", view(outbox_list), methods=["GET"]),
    Route("/outbox/retry-all", action(retry_all), methods=["POST"]),
    Route("/outbox/{message_id}/retry", action(retry_one), methods=["POST"]),
]
