"""What every workbench page shares: templates, the signed session, who is asking, CSRF.

The session is a signed cookie (Starlette's SessionMiddleware, itsdangerous), path
``/admin``, HttpOnly, SameSite=Lax, Secure when ``ZWGK_WEB_BASE_URL`` is https. It holds the
account id, the account's ``session_epoch`` (a password change or a disabled account ends
older sessions), the time of the last request (``ZWGK_WEB_SESSION_MINUTES`` of inactivity
end it) and a random CSRF token that every POST form carries as ``csrf_token``.

Handlers are plain functions (Starlette runs them in a thread pool); a POST's body is read
in the event loop and the work handed to a thread (:func:`action`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from models.account import ROLE_LABELS, User, UserRole, current_actor
from models.checklist import ChecklistItem
from models.unit import Unit
from notifications.links import secret_key
from notifications.render import cn_date, cn_day, cn_time
from zwgk import clock
from zwgk.config import Settings, get_settings
from zwgk.db import session_scope
from zwgk.errors import UserError
from zwgk.web.limits import small_int

TEMPLATES = Path(__file__).parents[1] / "templates"
SESSION_COOKIE = "zwgk_admin"
MAX_FORM_BYTES = 64 * 1024

_env = Environment(
    loader=FileSystemLoader(str(TEMPLATES)),
    autoescape=select_autoescape(("html",)),
    undefined=StrictUndefined,
)


def _day(value: date | str) -> str:
    """A day in Chinese (2026年11月30日), given as a date or as ``zwgk status --json`` writes
    it (2026-11-30)."""
    return cn_day(date.fromisoformat(value) if isinstance(value, str) else value)


_env.filters["cn_date"] = cn_date
_env.filters["cn_day"] = _day
_env.filters["local_time"] = cn_time  # 2026年11月30日 14:05, as the outbox and runs pages


def session_secret(settings: Settings) -> str:
    """The session cookie's key: derived from the unit links' secret, never the same bytes."""
    return hmac.new(secret_key(settings), b"zwgk admin session", hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Principal:
    """The logged-in account, as a request sees it."""

    id: int
    name: str
    role: UserRole
    district: str | None
    csrf: str

    @property
    def is_admin(self) -> bool:
        return self.role == UserRole.admin

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]

    def may_see(self, district: str) -> bool:
        return self.district is None or self.district == district


def page(name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    html = _env.get_template(name).render(**ctx)
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def refusal(
    status: int, title: str, message: str, who: Principal | None = None, *, back: str = ""
) -> HTMLResponse:
    """A page that says no, in one sentence, with the right status and a way back."""
    return page("admin/refused.html", status, title=title, message=message, who=who, back=back)


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use."""
    token = request.session.get("csrf")
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def csrf_ok(request: Request, form: dict[str, str]) -> bool:
    expected = request.session.get("csrf")
    given = form.get("csrf_token", "")
    return isinstance(expected, str) and bool(given) and hmac.compare_digest(expected, given)


async def read_form(request: Request) -> dict[str, str] | None:
    """An urlencoded form's fields (first value of each); None when too large or not a form."""
    ctype = request.headers.get("content-type", "application/x-www-form-urlencoded")
    if not ctype.startswith("application/x-www-form-urlencoded"):
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    text = body.decode("utf-8", "replace")
    return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}


def login_redirect(request: Request, *, expired: bool = False) -> RedirectResponse:
    target = "/admin/login"
    params = []
    if expired:
        params.append("expired=1")
    if request.method == "GET" and request.url.path not in ("/admin/", "/admin/login"):
        nxt = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        params.append("next=" + quote(nxt, safe=""))
    return RedirectResponse(target + ("?" + "&".join(params) if params else ""), status_code=303)


def current(request: Request) -> Principal | Response:
    """The logged-in account, or the redirect to the login page (303). Touches the session,
    so every answered request moves the inactivity deadline on."""
    session = request.session
    uid = session.get("uid")
    if not isinstance(uid, int):
        return login_redirect(request)
    now = clock.utcnow().timestamp()
    seen = session.get("seen")
    limit = get_settings().web_session_minutes * 60
    if not isinstance(seen, int | float) or now - seen > limit:
        session.clear()
        return login_redirect(request, expired=True)
    with session_scope() as s:
        user = s.get(User, uid)
        if user is None or not user.active or user.session_epoch != session.get("epoch"):
            session.clear()
            return login_redirect(request, expired=True)
        who = Principal(user.id, user.name, user.role, user.district, csrf_token(request))  # type: ignore[arg-type]
    session["seen"] = int(now)
    return who


Handler = Callable[..., Response]


def view(handler: Handler) -> Callable[[Request], Response]:
    """A GET page for any logged-in account: ``handler(request, who)``."""

    def endpoint(request: Request) -> Response:
        who = current(request)
        if isinstance(who, Response):
            return who
        return handler(request, who)

    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    return endpoint


def action(
    handler: Handler, *, admin_only: bool = True
) -> Callable[[Request], Awaitable[Response]]:
    """A POST: a logged-in account, a valid CSRF token and (unless ``admin_only`` is off) the
    admin role, else 303 to the login page / 403 and nothing done. ``handler(request, who,
    form)`` runs in a thread."""

    async def endpoint(request: Request) -> Response:
        form = await read_form(request)
        who = await run_in_threadpool(current, request)
        if isinstance(who, Response):
            return who
        if form is None:
            return refusal(400, "无法处理的请求", "表单格式不正确或内容过长。", who)
        if not csrf_ok(request, form):
            return refusal(
                403,
                "请求已失效",
                "页面已过期或请求来源不明（缺少有效的校验码），未作任何改动。请返回并刷新页面后重试。",
                who,
            )
        if admin_only and not who.is_admin:
            return refusal(
                403, "无权操作", "您的账号为只读账号，可以查看但不能修改，未作任何改动。", who
            )
        return await run_in_threadpool(handler, request, who, form)

    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    return endpoint


ItemWork = Callable[[Session, ChecklistItem, Unit], object]


def item_action(request: Request, who: Principal, what: str, work: ItemWork) -> Response:
    """An admin's change to the item named in the path (``/items/{item_id}/…``): the item
    loaded and its district checked (404 / 403), ``work(session, item, unit)`` run as
    ``who`` in one transaction (the audit log names the account), a refusal (UserError)
    shown as a 400 page with nothing written, else 303 back to the item page with
    ``?done=what``."""
    raw = request.path_params["item_id"]
    item_id = small_int(raw)
    if item_id is None:
        return refusal(404, "事项不存在", f"没有编号为「{raw}」的事项。", who)
    back = f"/admin/items/{item_id}"
    token = current_actor.set(who.name)
    try:
        with session_scope() as s:
            item = s.get(ChecklistItem, item_id)
            unit = s.get(Unit, item.unit_id) if item else None
            if item is None or unit is None:
                return refusal(404, "事项不存在", f"没有编号为 {item_id} 的事项。", who)
            if not who.may_see(unit.district):
                return refusal(
                    403,
                    "无权操作",
                    f"事项 {item_id} 属于{unit.district}，不在您账号的管辖范围内。",
                    who,
                )
            work(s, item, unit)
    except UserError as exc:
        return refusal(400, "未能办理", f"事项 {item_id}：{exc.message}", who, back=back)
    finally:
        current_actor.reset(token)
    return RedirectResponse(f"{back}?done={what}", status_code=303)
