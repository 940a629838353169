"""Flow runs from the workbench (/admin/runs): an admin starts an obligation's run for a
period through Prefect's API (the deployment ``zwgk serve`` serves under ``zwgk up``), and
everyone who may see the district follows its state here, with a link into the Prefect UI.

Each form carries a random nonce; the run is created with Prefect's ``idempotency_key``
made of it and the form's values, so a form submitted twice starts one run (Prefect returns
the first), and the audit log gets one entry per run (looked up by the run's id under a
lock, in this process). The runs listed are those the audit log says were started here,
in the districts the account sees; their states come from Prefect each time the page is
shown, and a page with a run still going reloads itself every few seconds (no JavaScript).

With no Prefect server answering (plain ``zwgk web``), the pages say so with 503.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlmodel import col, select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from models.account import AuditEntry
from models.directory import districts, resolve_district
from notifications.render import cn_day, cn_time
from workflows.engine import preflight
from workflows.obligation import Obligation
from workflows.prefect_server import (
    DeploymentMissing,
    RunView,
    ServerUnavailable,
    deployment_name,
    run_name,
    running_server,
    trigger,
    ui_url,
)
from workflows.prefect_server import (
    read_runs as read_flow_runs,
)
from workflows.registry import REGISTRY
from zwgk.access.audit import entries, record
from zwgk.clock import today_shanghai
from zwgk.config import get_settings
from zwgk.db import session_scope
from zwgk.errors import UserError
from zwgk.periods import Cadence, Period
from zwgk.web.admin.common import Principal, action, page, refusal, view

REMINDERS = "reminders"  # the daily sweep's deployment: offered for today, no period
REMINDERS_TITLE = "催办提醒"
REMINDERS_NOTE = "每天 09:00 按催办梯度提醒未办结事项的单位（非工作日不发送）"
TAG = "zwgk-web"  # every run started from the workbench carries it (filter in the Prefect UI)
RECENT = 20  # runs listed on /admin/runs
REFRESH_SECONDS = 5
UNAVAILABLE = (
    "工作流服务未启动：请先运行 make run 或 zwgk up（启动 Prefect 服务器和定时部署）后再试。"
)

# Periods offered around the one a scheduled run would build now: (before, after).
AROUND = {Cadence.monthly: (3, 1), Cadence.quarterly: (2, 1), Cadence.yearly: (2, 1)}

_record_lock = threading.Lock()  # one audit entry per run, however many submissions race


def _next(p: Period) -> Period:
    return Period.containing(p.end + timedelta(days=1), p.cadence)


def period_choices(ob: Obligation, today: date) -> tuple[list[Period], Period]:
    """The periods the form offers for ``ob`` (oldest first) and the one preselected: the
    period its scheduled run would build today, with a few before and after it."""
    default = ob.period_for(today)
    before, after = AROUND[ob.cadence]
    first = default
    for _ in range(before):
        first = first.previous()
    out = [first]
    while len(out) < before + 1 + after:
        out.append(_next(out[-1]))
    return out, default


def _server() -> tuple[str | None, str]:
    """(API URL, UI URL) of the Prefect server that answers; (None, "") when none does."""
    try:
        api = running_server(get_settings())
    except ServerUnavailable:
        return None, ""
    return api, ui_url(api)


def _run_entry(run_id: str) -> AuditEntry | None:
    with session_scope() as s:
        return s.exec(
            select(AuditEntry)
            .where(AuditEntry.action == "run")
            .where(AuditEntry.target == f"flow-run {run_id}")
            .order_by(col(AuditEntry.id))
        ).first()


def _line(entry: AuditEntry, run: RunView | None, ui: str) -> dict[str, Any]:
    """One run started here, as the pages show it."""
    after = entry.after or {}
    run_id = str(after.get("flow_run_id", ""))
    slug = str(after.get("obligation", ""))
    ob = REGISTRY.get(slug)
    period = str(after.get("period", ""))
    try:
        if ob is not None:
            period_label = ob.parse_period(period).label
        else:
            period_label = cn_day(date.fromisoformat(period)) if slug == REMINDERS else period
    except (UserError, ValueError):
        period_label = period
    return {
        "id": run_id,
        "title": ob.title if ob else (REMINDERS_TITLE if slug == REMINDERS else slug),
        "period": period_label,
        "district": entry.district or "",
        "by": entry.user,
        "at": cn_time(entry.at, seconds=True),
        "run": run,
        "state": run.label if run else ("无法获取" if not ui else "Prefect 中已无此运行"),
        "state_type": run.state_type if run else "",
        "name": run.name if run else "",
        "message": run.message if run else "",
        "expected": cn_time(run.expected_start, seconds=True) if run else "",
        "start": cn_time(run.start, seconds=True) if run else "",
        "end": cn_time(run.end, seconds=True) if run else "",
        "ui_link": f"{ui}/runs/flow-run/{run_id}" if ui and run else "",
    }


def _states(api: str | None, ids: list[str]) -> tuple[dict[str, RunView], str | None]:
    """The runs' states, and the API URL (None when the server stopped answering)."""
    if api is None or not ids:
        return {}, api
    try:
        return read_flow_runs(api, ids), api
    except ServerUnavailable:
        return {}, None


def runs_page(request: Request, who: Principal) -> Response:
    """工作流运行: start an obligation's run for a period; the runs started here."""
    api, ui = _server()
    today = today_shanghai()
    with session_scope() as s:
        known = districts(session=s)
        recent = entries(session=s, district=who.district, action="run", limit=RECENT)
    ids = [str((e.after or {}).get("flow_run_id", "")) for e in recent]
    states, api = _states(api, ids)
    ui = ui if api else ""
    lines = [_line(e, states.get(i), ui) for e, i in zip(recent, ids, strict=True)]
    forms = []
    for ob in REGISTRY.values():
        choices, default = period_choices(ob, today)
        forms.append(
            {
                "slug": ob.slug,
                "title": ob.title,
                "note": ob.schedule_note,
                "periods": [(str(p), p.label) for p in choices],
                "default": str(default),
                "nonce": secrets.token_urlsafe(16),
            }
        )
    forms.append(
        {
            "slug": REMINDERS,
            "title": REMINDERS_TITLE,
            "note": REMINDERS_NOTE,
            "periods": [],
            "default": "",
            "today": cn_day(today),
            "nonce": secrets.token_urlsafe(16),
        }
    )
    going = any(line["run"] is not None and not line["run"].final for line in lines)
    return page(
        "admin/runs.html",
        status=200 if api else 503,
        who=who,
        available=api is not None,
        unavailable=UNAVAILABLE,
        ui=ui,
        forms=forms,
        districts=[who.district] if who.district else known,
        lines=lines,
        refresh=REFRESH_SECONDS if going else 0,
    )


def run_view(request: Request, who: Principal) -> Response:
    """One run started here: its state, times and message, and its page in the Prefect UI."""
    run_id = request.path_params["run_id"]
    entry = _run_entry(run_id)
    if entry is None:
        return refusal(
            404,
            "运行不存在",
            f"没有从工作台启动的编号为「{run_id}」的运行。",
            who,
            back="/admin/runs",
        )
    if entry.district and not who.may_see(entry.district):
        return refusal(
            403,
            "无权查看",
            f"该运行属于{entry.district}，不在您账号的管辖范围内。",
            who,
            back="/admin/runs",
        )
    api, ui = _server()
    states, api = _states(api, [run_id])
    line = _line(entry, states.get(run_id), ui if api else "")
    going = line["run"] is not None and not line["run"].final
    return page(
        "admin/run.html",
        status=200 if api else 503,
        who=who,
        line=line,
        available=api is not None,
        unavailable=UNAVAILABLE,
        refresh=REFRESH_SECONDS if going else 0,
        again=request.query_params.get("again") == "1",
    )


@dataclass(frozen=True)
class Job:
    """What a submitted form asks Prefect to run, checked."""

    slug: str  # the obligation, or "reminders"
    title: str
    deployment: str
    parameters: dict[str, Any]
    period: str  # stored in the audit log: the period's code, or the day of a reminder sweep
    label: str  # the period (or day) in Chinese
    district: str


def _job(form: dict[str, str], district: str | None) -> Job:
    """The run the form asks for; ``UserError`` with what the office can fix (no directory,
    unknown district, a bad period, no plan), said before anything starts as ``zwgk run``
    says it."""
    slug = form.get("obligation", "")
    settings = get_settings()
    if slug == REMINDERS:
        today = today_shanghai()
        with session_scope() as s:
            district = resolve_district(
                session=s, district=district, default=settings.default_district
            )
        return Job(
            slug=REMINDERS,
            title=REMINDERS_TITLE,
            deployment=f"{REMINDERS}/{REMINDERS}",
            parameters={"district": district},
            period=today.isoformat(),
            label=cn_day(today),
            district=district,
        )
    ob = REGISTRY.get(slug)
    if ob is None:
        raise UserError(f"没有代码为「{slug}」的事项。")
    try:
        period = ob.parse_period(form.get("period", ""))
        with session_scope() as s:
            district = preflight(
                session=s, ob=ob, period=period, settings=settings, district=district
            )
    except UserError as exc:
        raise UserError(f"{ob.title}：{exc.message}") from None
    return Job(
        slug=ob.slug,
        title=ob.title,
        deployment=deployment_name(ob),
        parameters={"period": str(period), "district": district},
        period=str(period),
        label=period.label,
        district=district,
    )


def start_run(request: Request, who: Principal, form: dict[str, str]) -> Response:
    """Start an obligation's flow run for a period (or today's reminders) through Prefect."""
    back = "/admin/runs"
    nonce = form.get("nonce", "")
    if not 16 <= len(nonce) <= 64:
        return refusal(
            400, "无法启动", "表单不完整（缺少表单编号），请刷新页面后重试。", who, back=back
        )
    district = form.get("district", "") or who.district
    if who.district is not None and district != who.district:
        return refusal(
            403,
            "无权操作",
            f"「{district}」不在您账号的管辖范围内（{who.district}），未启动任何运行。",
            who,
            back=back,
        )
    try:
        job = _job(form, district)
    except UserError as exc:
        return refusal(400, "无法启动", exc.message, who, back=back)
    api, _ = _server()
    if api is None:
        return refusal(503, "工作流服务未启动", UNAVAILABLE, who, back=back)
    with _record_lock:
        try:
            run = trigger(
                api,
                job.deployment,
                parameters=job.parameters,
                idempotency_key=f"{TAG}:{nonce}:{job.slug}:{job.period}:{job.district}",
                tags=[TAG],
                # As the flows name their runs ("monthly-filing 2026-11"), from the start.
                name=run_name(job.slug, job.period),
            )
        except ServerUnavailable:
            return refusal(503, "工作流服务未启动", UNAVAILABLE, who, back=back)
        except DeploymentMissing:
            return refusal(
                503,
                "工作流尚未部署",
                f"工作流服务已启动，但还没有「{job.title}」的部署：定时部署（zwgk serve）可能仍在启动，"
                "请稍候一分钟再试；如持续出现，请检查 var/prefect/serve.log。",
                who,
                back=back,
            )
        again = _run_entry(run.id) is not None
        if not again:
            with session_scope() as s:
                record(
                    session=s,
                    user=who.name,
                    action="run",
                    target=f"flow-run {run.id}",
                    district=job.district,
                    detail=f"启动工作流：{job.title}（{job.label}，{job.district}）",
                    after={
                        "flow_run_id": run.id,
                        "obligation": job.slug,
                        "period": job.period,
                        "district": job.district,
                    },
                )
    return RedirectResponse(
        f"/admin/runs/{run.id}" + ("?again=1" if again else ""), status_code=303
    )


routes = [
    Route("/runs", view(runs_page), methods=["GET"]),
    Route("/runs", action(start_run), methods=["POST"]),
    Route("/runs/{run_id}", view(run_view), methods=["GET"]),
]
