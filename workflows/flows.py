"""Prefect flows, one per registered obligation (generated from ``workflows/registry.py``).

Each flow: build the period's checklist and queue the assignment mails (one transaction),
then dispatch the outbox. A send that fails leaves the message queued for the next run and
ends the flow run Failed with the reasons as its message (no traceback), so nothing fails
silently. ``outbox`` retries queued mail between runs, after each message's backoff.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from prefect import flow, get_run_logger, task
from prefect.runtime import flow_run
from prefect.states import Failed, State

from notifications.outbox_report import DispatchReport
from notifications.outbox_send import dispatch
from notifications.render import cn_day, cn_period
from workflows.bulletin_mail import queue_bulletins
from workflows.engine import build_checklist
from workflows.obligation import Obligation
from workflows.prefect_server import run_name
from workflows.progress import publish_artifacts
from workflows.registry import REGISTRY, get_obligation
from workflows.reminders import sweep
from zwgk.clock import today_shanghai
from zwgk.config import get_settings
from zwgk.db import session_scope, transact
from zwgk.errors import UserError
from zwgk.migrations import init_db

# The unique keys a concurrent run of the same work reaches first (zwgk.db.transact retries
# only these): a period's items and their mails; a day's reminder rungs and their mails.
CHECKLIST_KEYS = ("uq_item_key", "uq_outbox_key")
REMINDER_KEYS = ("uq_reminder_item_rung", "uq_outbox_key")


def _retry_unless_users_mistake(_task: Any, _task_run: Any, state: State) -> bool:
    """Retry a failed step, but not a user's mistake (a month not over, no plan imported):
    trying again cannot mend it and only held its Chinese message back by the retries."""
    try:
        state.result()
    except UserError:
        return False
    except Exception:  # any other failure: retried as before
        pass
    return True


@task(retries=2, retry_delay_seconds=5, retry_condition_fn=_retry_unless_users_mistake)
def build_checklist_task(
    slug: str, period: str | None, today: date | None, district: str | None
) -> dict[str, Any]:
    """Create the period's checklist items and queue the assignment mails."""
    ob = get_obligation(slug)
    settings = get_settings()
    as_of = today or today_shanghai()
    p = ob.parse_period(period) if period else ob.period_for(as_of)
    init_db()
    # A second run of the same obligation and period at the same moment (a manual trigger
    # during the scheduled one) collides on the unique item/outbox keys; the loser starts
    # over, sees the winner's rows, and creates and queues nothing.
    result = transact(
        lambda session: build_checklist(
            session=session, ob=ob, period=p, settings=settings, district=district, today=as_of
        ),
        what=f"{slug} {p}",
        collisions=CHECKLIST_KEYS,
    )
    logger = get_run_logger()
    logger.info(
        "%s %s (%s): %d items created, %d already existed, %d assignment mails queued",
        slug,
        p,
        result.district,
        result.created,
        result.existing,
        len(result.queued),
    )
    if result.provisional:
        logger.warning(
            "Some due dates of %s %s are provisional (no holiday data for that year)", slug, p
        )
    return result.as_dict()


@task
def dispatch_task() -> dict[str, Any]:
    """Send every queued message over one SMTP connection."""
    # A run is deliberate and infrequent: it tries every pending message, backoff or not.
    report = dispatch(settings=get_settings(), respect_backoff=False)
    get_run_logger().info("outbox: %s", report.summary())
    return report.as_dict()


@task
def publish_progress_task(slug: str, period: str, today: date | None) -> str | None:
    """Publish where the obligation period stands as Prefect artifacts (table, progress, chart)."""
    with session_scope() as session:
        return publish_artifacts(
            session=session,
            obligation=slug,
            period=period,
            today=today or today_shanghai(),
            var_dir=get_settings().var_dir,
        )


def _concluded(result: dict[str, Any], sent: dict[str, Any], what: str) -> dict[str, Any] | State:
    """The flow's return value: its result (with the dispatch's report under ``dispatch``:
    what is left queued, held by another dispatcher or waiting, and when it goes), or, when
    some mail could not be sent this run, a Failed state whose message says what and why (a
    red run in the UI and a non-zero exit for ``zwgk run``, without an exception's traceback;
    the mail stays queued)."""
    report = DispatchReport.from_dict(sent)
    result = {
        **result,
        "sent": len(report.sent),
        "retry": len(report.retry),
        "failed": len(report.failed),
        "dispatch": report.as_dict(),
    }
    if report.ok:
        return result
    return Failed(
        message=f"{what}{report.summary()}。未发出的邮件：\n" + "\n".join(report.errors()[:10])
    )


def _run_name() -> str:
    return run_name(flow_run.flow_name, (flow_run.parameters or {}).get("period"))


def run_obligation(
    slug: str, period: str | None = None, today: date | None = None, district: str | None = None
) -> dict[str, Any] | State:
    """Body shared by every obligation flow."""
    built = build_checklist_task(slug, period, today, district)
    sent = dispatch_task()
    publish_progress_task(slug, built["period"], today)
    ob = get_obligation(slug)
    what = (
        f"{ob.title}（{ob.parse_period(built['period']).label}，{built['district']}）："
        f"新建事项 {built['created']} 条，已有 {built['existing']} 条；"
    )
    return _concluded(built, sent, what)


def make_flow(ob: Obligation):  # type: ignore[no-untyped-def]
    """The Prefect flow of one obligation; its parameters render as a form in the UI."""

    def obligation_flow(
        period: str | int | None = None, today: date | None = None, district: str | None = None
    ) -> dict[str, Any] | State:
        # `prefect deployment run -p period=2026` sends a number: accept it as the year.
        return run_obligation(ob.slug, None if period is None else str(period), today, district)

    obligation_flow.__name__ = ob.func_name
    obligation_flow.__qualname__ = ob.func_name
    obligation_flow.__doc__ = f"{ob.title}：生成{ob.cadence.value}清单并通知责任单位。"
    return flow(
        name=ob.flow_name,
        flow_run_name=_run_name,
        description=f"{ob.title}（{ob.basis}）",
        log_prints=True,
    )(obligation_flow)


@task(retries=2, retry_delay_seconds=5, retry_condition_fn=_retry_unless_users_mistake)
def sweep_task(today: date | None, district: str | None) -> dict[str, Any]:
    """Record the reminder rungs reached today; queue one digest per unit and the overdue
    summaries (one to the office, one to each lead unit with coordinated units behind)."""
    as_of = today or today_shanghai()
    init_db()
    result = transact(
        lambda session: sweep(
            session=session, settings=get_settings(), today=as_of, district=district
        ),
        what=f"reminders {as_of}",
        collisions=REMINDER_KEYS,
    )
    logger = get_run_logger()
    if not result.workday:
        logger.info("%s is not a working day: no reminders", as_of)
    else:
        logger.info(
            "reminders %s: %d digests queued, %d items escalated, %d stale rungs skipped; "
            "%d units behind: %d office and %d lead summaries queued",
            as_of,
            result.queued,
            len(result.escalated),
            len(result.skipped),
            result.units_behind,
            len(result.office_summaries),
            len(result.lead_summaries),
        )
    return result.as_dict()


@flow(
    name="reminders",
    flow_run_name=lambda: run_name("reminders", flow_run.parameters.get("today"), "today"),
    description="按催办梯度向未完成事项的单位发送提醒和逾期催办（仅工作日）",
    log_prints=True,
)
def reminders(today: date | None = None, district: str | None = None) -> dict[str, Any] | State:
    """催办：每个工作日向未完成事项的单位发送一封汇总提醒。"""
    swept = sweep_task(today, district)
    if not swept["workday"]:
        return {**swept, "sent": 0}
    day = cn_day(date.fromisoformat(swept["today"]))
    return _concluded(swept, dispatch_task(), f"催办（{day}）：")


@task
def dispatch_due_task() -> dict[str, Any]:
    """Send the queued messages whose wait after a failure has run out."""
    report = dispatch(settings=get_settings())
    get_run_logger().info("outbox: %s", report.summary())
    return report.as_dict()


@flow(
    name="outbox",
    flow_run_name=lambda: f"outbox {datetime.now(ZoneInfo('Asia/Shanghai')):%Y-%m-%d %H:%M}",
    description="发件箱补发：发送暂未发出且已到重试时间的邮件（每 30 分钟，07:00–20:59）",
    log_prints=True,
)
def outbox() -> dict[str, Any] | State:
    """发件箱补发：邮件服务器恢复后，把暂未发出的邮件按退避时间补发。"""
    return _concluded({}, dispatch_due_task(), "发件箱补发：")


@task(retries=2, retry_delay_seconds=5, retry_condition_fn=_retry_unless_users_mistake)
def queue_bulletins_task(
    today: date | None, district: str | None, period: str | None
) -> dict[str, Any]:
    """Build last month's 通报 (DOCX) per district and queue it to the office and leaders."""
    as_of = today or today_shanghai()
    init_db()
    result = transact(
        lambda session: queue_bulletins(
            session=session, settings=get_settings(), today=as_of, district=district, period=period
        ),
        what=f"bulletin {as_of}",
        collisions=("uq_outbox_key",),
    )
    logger = get_run_logger()
    if not result.due:
        logger.info(
            "%s is before the month's first working day (%s): no 通报", as_of, result.first_workday
        )
    else:
        logger.info(
            "bulletin %s: queued for %s; already queued for %s; no office email or leaders: %s",
            result.period,
            result.queued or "-",
            result.existing or "-",
            result.no_recipient or "-",
        )
    return result.as_dict()


@flow(
    name="bulletin",
    flow_run_name=lambda: run_name(
        "bulletin", flow_run.parameters.get("period") or flow_run.parameters.get("today")
    ),
    description="每月第一个工作日生成上月政务公开重点工作完成情况通报（DOCX），发送区政府办公室并抄送领导",
    log_prints=True,
)
def bulletin(
    today: date | None = None, district: str | None = None, period: str | None = None
) -> dict[str, Any] | State:
    """通报：每月第一个工作日把上月的通报发送区政府办公室和领导。"""
    queued = queue_bulletins_task(today, district, period)
    if not queued["due"]:
        return {**queued, "sent": 0}
    return _concluded(queued, dispatch_task(), f"通报（{cn_period(queued['period'])}）：")


FLOWS = {slug: make_flow(ob) for slug, ob in REGISTRY.items()}

# Module-level names so `prefect.yaml` entrypoints can point at each flow:
# workflows/flows.py:monthly_filing, ...
globals().update({ob.func_name: FLOWS[slug] for slug, ob in REGISTRY.items()})
