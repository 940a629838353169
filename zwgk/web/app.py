"""Completion web app (完成情况填报): plain HTML forms that work without JavaScript.

``GET /u/<token>`` lists the unit's open items, each with a form for the evidence URL and
a note; ``POST /u/<token>/items/<id>`` records completion and redirects back (303). A
tampered link gets 403, an expired one 410, another unit's item 404, a bad form 400 with
the message on the page. Nothing is recorded unless the whole form is valid.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlmodel import col, select
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from models.checklist import ROLE_LABELS, STATUS_LABELS, ChecklistItem, ItemStatus, Role
from models.submission import REVIEW_LABELS, Attachment, ReviewState
from models.unit import Unit
from notifications.links import TokenError, verify
from notifications.render import cn_date, cn_period
from workflows.items import derived_status
from workflows.registry import REGISTRY, item_titles
from workflows.submissions import (
    MAX_ATTACHMENT_BYTES,
    StoredFile,
    item_submissions,
    store_upload,
    submit,
)
from zwgk.clock import SHANGHAI as SHANGHAI_TZ
from zwgk.clock import as_utc, today_shanghai
from zwgk.config import get_settings
from zwgk.db import session_scope
from zwgk.errors import UserError
from zwgk.web.admin import mount
from zwgk.web.files import attachment_response
from zwgk.web.limits import BadBody, BodyTooLarge, read_body, read_form, small_int

_env = Environment(
    loader=FileSystemLoader(str(Path(__file__).parent / "templates")),
    autoescape=select_autoescape(("html",)),
    undefined=StrictUndefined,
)
_env.filters["cn_date"] = cn_date
_env.filters["local_date"] = lambda v: cn_date((as_utc(v) or v).astimezone(SHANGHAI_TZ).date())

MAX_PLAIN_FORM_BYTES = 256 * 1024  # a unit's form without a file: URL, note, 本期无 reason


def _page(name: str, status: int = 200, **ctx) -> HTMLResponse:  # type: ignore[no-untyped-def]
    html = _env.get_template(name).render(**ctx)
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def _refuse(exc: TokenError) -> HTMLResponse:
    if exc.expired:
        return _page(
            "refused.html",
            410,
            title="链接已过期",
            message="该填报链接已过期。请使用最新一封提醒邮件中的链接，或联系区政府办公室（政务公开办）。",
        )
    return _page(
        "refused.html",
        403,
        title="链接无效",
        message="该填报链接无效（可能复制不完整或被修改）。请直接点击邮件中的链接，或联系区政府办公室（政务公开办）。",
    )


def _unit_page(
    token: str,
    unit_id: int,
    *,
    status: int = 200,
    error: str | None = None,
    error_item: int | None = None,
    form: dict[str, str] | None = None,
    done: int | None = None,
) -> HTMLResponse:
    titles = item_titles()
    today = today_shanghai()
    with session_scope() as s:
        unit = s.get(Unit, unit_id)
        if unit is None or not unit.active:
            return _page(
                "refused.html",
                404,
                title="单位不存在",
                message="该单位已不在名录中，请联系区政府办公室（政务公开办）。",
            )
        items = list(
            s.exec(
                select(ChecklistItem)
                .where(ChecklistItem.unit_id == unit_id)
                .order_by(col(ChecklistItem.due), col(ChecklistItem.id))
            )
        )
        history = {i.id: item_submissions(session=s, item_id=i.id) for i in items}  # type: ignore[arg-type]
    open_items: list[dict[str, Any]] = []
    closed: list[dict[str, Any]] = []
    for i in items:
        view = {
            "id": i.id,
            "title": titles.get(i.obligation, i.obligation),
            "period": cn_period(i.period),
            "step_title": i.step_title,
            "role": ROLE_LABELS[Role(i.role)],
            "due": i.due,
            "status": derived_status(i, today),
            "status_label": STATUS_LABELS[derived_status(i, today)],
            "evidence": i.evidence or "",
            "provisional": i.provisional,
            "due_basis": i.due_basis or "",
            "allow_nil": bool(REGISTRY.get(i.obligation) and REGISTRY[i.obligation].allow_nil),
            "submissions": [
                {
                    "at": sub.at,
                    "review": REVIEW_LABELS[ReviewState(sub.review)],
                    "returned": sub.review == ReviewState.returned,
                    "reason": sub.return_reason or "",
                    "nil_reason": sub.nil_reason or "",
                    "files": [(a.id, a.filename) for a in atts],
                }
                for sub, atts in history.get(i.id, [])
            ],
        }
        last = history.get(i.id, [])[-1:]
        if i.status == ItemStatus.done and last and last[0][0].review == ReviewState.awaiting:
            # Done by the unit, not yet by the office: the page says so, as the office's does.
            view["status"], view["status_label"] = "awaiting", "已报送，待审核"
        (open_items if i.status == ItemStatus.pending else closed).append(view)
    return _page(
        "unit.html",
        status,
        unit=unit,
        token=token,
        open_items=open_items,
        closed=closed[-20:],
        error=error,
        error_item=error_item,
        form=form or {},
        done=done,
        today=today,
    )


# Handlers that touch the database (or the key file) are plain functions: Starlette runs
# them in its threadpool, so a slow query never stalls the event loop. A POST reads its body
# on the loop, then does the rest in the threadpool.


def unit_page(request: Request) -> Response:
    token = request.path_params["token"]
    try:
        claims = verify(token, get_settings())
    except TokenError as exc:
        return _refuse(exc)
    done = request.query_params.get("done")
    return _unit_page(token, claims.unit_id, done=small_int(done))


async def complete_item(request: Request) -> Response:
    """A unit's submission: an urlencoded form, or multipart with the file ``attachment``.
    The upload is checked (size, type by content) and stored before the database is touched;
    a refused form removes it again."""
    token = request.path_params["token"]
    item_param = request.path_params["item_id"]
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith("multipart/form-data"):
        try:
            raw = await read_body(request, limit=MAX_PLAIN_FORM_BYTES)
        except BodyTooLarge:
            return _page("refused.html", 413, title="内容过长", message="提交的内容过长，未保存。")
        except BadBody:
            return _page(
                "refused.html", 400, title="无法处理的请求", message="提交不完整，未保存。"
            )
        body = raw.decode("utf-8", "replace")
        fields = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
        return await run_in_threadpool(_complete_item, token, item_param, fields, None)
    try:
        claims = verify(token, get_settings())
    except TokenError as exc:
        return _refuse(exc)
    error_item = small_int(item_param)
    try:
        form = await read_form(
            request, limit=MAX_ATTACHMENT_BYTES + 1024 * 1024, max_files=1, max_fields=10
        )
    except BodyTooLarge:
        return await run_in_threadpool(
            _unit_page,
            token,
            claims.unit_id,
            status=413,
            error="附件超过 20 MB，未保存。请压缩后重新上传。",
            error_item=error_item,
        )
    except BadBody:
        return await run_in_threadpool(
            _unit_page,
            token,
            claims.unit_id,
            status=400,
            error="提交的内容格式不正确（一次只能上传一个附件），未保存。请重新选择文件提交。",
            error_item=error_item,
        )
    try:
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        upload = form.get("attachment")
        stored: StoredFile | None = None
        if isinstance(upload, UploadFile) and (upload.filename or upload.size):
            try:
                stored = await run_in_threadpool(
                    store_upload, upload.file, upload.filename or "", get_settings()
                )
            except UserError as exc:
                too_big = "20 MB" in exc.message
                return await run_in_threadpool(
                    _unit_page,
                    token,
                    claims.unit_id,
                    status=413 if too_big else 415,
                    error=exc.message,
                    error_item=error_item,
                    form=fields,
                )
    finally:
        await form.close()
    return await run_in_threadpool(_complete_item, token, item_param, fields, stored)


def _complete_item(
    token: str, item_param: str, fields: dict[str, str], stored: StoredFile | None
) -> Response:
    try:
        claims = verify(token, get_settings())
    except TokenError as exc:
        if stored:
            stored.discard()
        return _refuse(exc)
    item_id = small_int(item_param)
    if item_id is None:
        if stored:
            stored.discard()
        return _page("refused.html", 404, title="事项不存在", message="没有这个事项。")
    evidence = fields.get("evidence", "").strip()
    note = fields.get("note", "").strip()
    nil = fields.get("nil") == "1"
    nil_reason = fields.get("nil_reason", "") if nil else None
    written = keep = False
    try:
        with session_scope() as s:
            item = s.get(ChecklistItem, item_id)
            if item is None or item.unit_id != claims.unit_id:
                return _page(
                    "refused.html",
                    404,
                    title="事项不存在",
                    message="该事项不存在，或不属于本单位。",
                )
            unit = s.get(Unit, claims.unit_id)
            by = f"{unit.name} {unit.contact}".strip() if unit else "单位填报"
            try:
                result = submit(
                    session=s,
                    item_id=item_id,
                    unit_id=claims.unit_id,
                    evidence=evidence,
                    note=note,
                    file=stored,
                    nil_reason=nil_reason,
                    by=by,
                )
            except UserError as exc:
                s.rollback()
                return _unit_page(
                    token,
                    claims.unit_id,
                    status=400,
                    error=exc.message,
                    error_item=item_id,
                    form={"evidence": evidence, "note": note, "nil_reason": nil_reason or ""},
                )
            keep = not result.already_done
        written = keep  # committed: the file is now the evidence of record
    finally:
        if stored and not written:
            stored.discard()  # refused, or the item was already done: keep nothing
    return RedirectResponse(f"/u/{token}?done={item_id}#item-{item_id}", status_code=303)


def unit_file(request: Request) -> Response:
    """A file the unit itself attached, through its own link (another unit's: 404)."""
    try:
        claims = verify(request.path_params["token"], get_settings())
    except TokenError as exc:
        return _refuse(exc)
    att_id = request.path_params["file_id"]
    with session_scope() as s:
        file_id = small_int(att_id)
        att = s.get(Attachment, file_id) if file_id is not None else None
    if att is None or att.unit_id != claims.unit_id:
        return _page(
            "refused.html", 404, title="附件不存在", message="该附件不存在，或不属于本单位。"
        )
    return attachment_response(att)


async def home(request: Request) -> Response:
    """The bare address: a page that says where to go (200: the service is up and this is
    its front door, not a missing page)."""
    return _page(
        "refused.html",
        200,
        title="政务公开事项填报",
        message="请通过通知邮件中的专属链接访问本单位的填报页面。",
    )


async def health(request: Request) -> Response:
    return Response("ok", media_type="text/plain")


def create_app() -> Starlette:
    return Starlette(
        routes=[
            Route("/", home),
            Route("/health", health),
            Route("/u/{token}", unit_page, methods=["GET"]),
            Route("/u/{token}/items/{item_id}", complete_item, methods=["POST"]),
            Route("/u/{token}/files/{file_id}", unit_file, methods=["GET"]),
            Route("/admin", lambda request: RedirectResponse("/admin/", status_code=303)),
            mount(),  # the office's workbench (/admin/…)
        ]
    )
