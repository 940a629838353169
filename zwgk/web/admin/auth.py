"""Login and logout of the workbench (/admin/login)."""

from __future__ import annotations

import math

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from zwgk import clock
from zwgk.access.accounts import authenticate
from zwgk.access.audit import record
from zwgk.db import session_scope
from zwgk.web.admin.common import (
    Principal,
    action,
    csrf_ok,
    csrf_token,
    current,
    page,
    read_form,
    refusal,
)


def _safe_next(value: str | None) -> str:
    """Only a path inside the workbench (no open redirect to another site)."""
    if value and value.startswith("/admin/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/admin/"


def login_page(request: Request) -> Response:
    """The login form; an account already logged in goes to the dashboard."""
    if isinstance(request.session.get("uid"), int):
        who = current(request)
        if isinstance(who, Principal):
            return RedirectResponse(_safe_next(request.query_params.get("next")), 303)
    notice = "登录已超时，请重新登录。" if request.query_params.get("expired") else None
    if request.query_params.get("out"):
        notice = "您已安全退出。"
    return _form(request, notice=notice)


def _form(
    request: Request,
    *,
    status: int = 200,
    error: str | None = None,
    notice: str | None = None,
    username: str = "",
) -> Response:
    return page(
        "admin/login.html",
        status,
        csrf=csrf_token(request),
        error=error,
        notice=notice,
        username=username,
        next=_safe_next(request.query_params.get("next")),
        who=None,
    )


def _login(request: Request, form: dict[str, str]) -> Response:
    name = form.get("username", "").strip()
    password = form.get("password", "")
    if not name or not password:
        return _form(request, status=400, error="请输入账号和密码。", username=name)
    with session_scope() as s:
        result = authenticate(session=s, name=name, password=password)
        user = result.user
        if user is not None:
            uid, epoch = user.id, user.session_epoch
    if user is None:
        if result.locked_until is None:
            return _form(request, status=401, error=result.error, username=name)
        wait = max(1, math.ceil((result.locked_until - clock.utcnow()).total_seconds()))
        response = _form(request, status=429, error=result.error, username=name)
        response.headers["Retry-After"] = str(wait)
        return response
    # A new session on login (no session fixation): a fresh CSRF token too.
    request.session.clear()
    request.session.update({"uid": uid, "epoch": epoch, "seen": int(clock.utcnow().timestamp())})
    csrf_token(request)
    return RedirectResponse(_safe_next(form.get("next")), status_code=303)


async def login_submit(request: Request) -> Response:
    form = await read_form(request)
    if form is None:
        return refusal(400, "无法处理的请求", "表单格式不正确或内容过长。")
    if not csrf_ok(request, form):
        # No valid token: the page is stale, or cookies are off, or another site posted it.
        request.session.clear()
        csrf_token(request)
        return _form(
            request,
            status=403,
            error="登录页面已过期或浏览器未启用 Cookie，请在本页重新登录。",
            username=form.get("username", "").strip(),
        )
    return await run_in_threadpool(_login, request, form)


def _logout(request: Request, who: Principal, form: dict[str, str]) -> Response:
    with session_scope() as s:
        record(
            session=s,
            user=who.name,
            action="logout",
            target=f"账号 {who.name}",
            district=who.district,
            detail="退出工作台",
        )
    request.session.clear()
    return RedirectResponse("/admin/login?out=1", status_code=303)


routes = [
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login_submit, methods=["POST"]),
    Route("/logout", action(_logout, admin_only=False), methods=["POST"]),
]
