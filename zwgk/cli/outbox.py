"""``zwgk outbox``: the mail outbox: list, retry, send."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from zwgk.cli.common import echo_json, open_db
from zwgk.errors import UserError

if TYPE_CHECKING:
    from sqlmodel import Session

    from notifications.outbox_report import DispatchReport

app = typer.Typer(help="发件箱", no_args_is_help=True)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _labels() -> dict[str, str]:
    from models.outbox import STATUS_LABELS

    return {str(k): v for k, v in STATUS_LABELS.items()}


@app.command("list")
def outbox_list(
    status: Annotated[
        str | None, typer.Option("--status", help="pending|sending|sent|failed")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """列出发件箱中的邮件（含失败原因和下次重试时间）。"""
    from notifications.outbox import counts, list_outbox
    from zwgk.clock import as_utc

    if status and status not in _labels():
        raise UserError(f"--status「{status}」无效，应为 pending、sending、sent 或 failed")
    with open_db() as session:
        rows = list_outbox(session=session, status=status)
        totals = counts(session=session)
    data = [
        {
            "id": m.id,
            "recipient": m.recipient,
            "cc": m.cc,
            "obligation": m.obligation,
            "period": m.period,
            "kind": m.kind,
            "status": str(m.status),
            "attempts": m.attempts,
            "last_error": m.last_error,
            "next_attempt_at": _iso(as_utc(m.next_attempt_at)),
            "claimed_by": m.claimed_by,
            "claimed_at": _iso(as_utc(m.claimed_at)),
            "sent_at": _iso(as_utc(m.sent_at)),
            "subject": m.subject,
        }
        for m in rows
    ]
    if as_json:
        echo_json(data)
        return
    from notifications.outbox_report import holder_name, shanghai_time
    from zwgk.cli.table import print_table

    table = []
    for d, m in zip(data, rows, strict=True):
        notes = []
        if d["status"] == "sending" and m.claimed_by:
            notes.append(
                f"{holder_name(m.claimed_by)}，最近续期 {shanghai_time(m.claimed_at, seconds=True)}"
            )
        if d["status"] in ("pending", "failed") and d["attempts"]:
            notes.append(f"已尝试 {d['attempts']} 次")
        if d["status"] == "pending" and m.next_attempt_at:
            notes.append(f"{shanghai_time(m.next_attempt_at)} 后重试")
        if d["last_error"]:
            notes.append(f"原因：{d['last_error']}")
        table.append(
            (d["id"], _labels()[str(m.status)], d["recipient"], d["subject"], "，".join(notes))
        )
    print_table(["编号", "状态", "收件人", "主题", "备注"], table)
    summary = "，".join(f"{_labels()[k]} {v}" for k, v in sorted(totals.items()))
    typer.echo(f"共 {len(data)} 封" + (f"（发件箱合计：{summary}）" if totals else "") + "。")


def _report_dispatch(report: DispatchReport) -> None:
    typer.echo(f"{report.summary()}。")
    if not report.ok:
        raise UserError(
            "以下邮件未能发出（原因见下；暂未发出的会自动重试，可用 zwgk outbox list 查看）：\n"
            + "\n".join(report.errors()[:10]),
            exit_code=1,
        )


@app.command("retry")
def outbox_retry(
    message_id: Annotated[int | None, typer.Argument(metavar="ID")] = None,
    all_: Annotated[bool, typer.Option("--all", help="重试全部失败和待重试的邮件")] = False,
) -> None:
    """把失败（或等待重试）的邮件重新放回队列并立即发送。"""
    from notifications.outbox import retry
    from notifications.outbox_send import dispatch
    from zwgk.config import get_settings

    if message_id is None and not all_:
        raise UserError("请指定邮件编号 ID，或使用 --all")
    if message_id is not None and all_:
        raise UserError("邮件编号 ID 和 --all 只能选一个")
    ids = None if all_ else [message_id]
    with open_db() as session:
        before = _before(session, message_id)
        n = retry(session=session, ids=ids)  # type: ignore[arg-type]
        if n:
            _audit_retry(session, message_id, n, before)
    if message_id is not None and n == 0:
        with open_db() as session:
            from models.outbox import OutboxMessage

            msg = session.get(OutboxMessage, message_id)
        if msg is None:
            raise UserError(f"发件箱中没有编号为 {message_id} 的邮件")
        raise UserError(
            f"邮件 #{message_id} 状态为「{_labels()[str(msg.status)]}」，无需重试", exit_code=1
        )
    typer.echo(f"重新排队 {n} 封。")
    _report_dispatch(dispatch(settings=get_settings(), ids=ids, respect_backoff=False))  # type: ignore[arg-type]


def _before(session: Session, message_id: int | None) -> dict[str, Any] | None:
    """A message's status, attempts and reason before a retry (for the audit log)."""
    from models.outbox import OutboxMessage

    msg = session.get(OutboxMessage, message_id) if message_id is not None else None
    if msg is None:
        return None
    return {"status": str(msg.status), "attempts": msg.attempts, "last_error": msg.last_error}


def _audit_retry(
    session: Session, message_id: int | None, n: int, before: dict[str, Any] | None
) -> None:
    """The retry in the audit log, as the workbench writes it (under ``cli:<user>``)."""
    from models.outbox import OutboxMessage
    from models.unit import Unit
    from zwgk.access.audit import cli_actor, record

    if message_id is None:
        record(
            session=session,
            user=cli_actor(),
            action="outbox-retry",
            target="outbox",
            detail=f"重试全部发送失败和等待重试的邮件，共 {n} 封",
            after={"count": n},
        )
        return
    msg = session.get(OutboxMessage, message_id)
    unit = session.get(Unit, msg.unit_id) if msg is not None and msg.unit_id else None
    record(
        session=session,
        user=cli_actor(),
        action="outbox-retry",
        target=f"outbox {message_id}",
        district=unit.district if unit else None,
        before=before,
        detail=f"重试发送邮件 #{message_id}"
        + (f"「{msg.subject}」（收件人 {unit.name if unit else msg.recipient}）" if msg else ""),
        after={"status": "pending", "attempts": 0},
    )


@app.command("send")
def outbox_send() -> None:
    """发送队列中到期的邮件（失败后按退避时间等待的邮件到期才发；定时任务每 30 分钟也会执行）。"""
    from notifications.outbox_send import dispatch
    from zwgk.config import get_settings

    with open_db():
        pass
    _report_dispatch(dispatch(settings=get_settings()))
