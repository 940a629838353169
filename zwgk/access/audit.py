"""The audit log (操作日志): write one entry, read them back."""

from __future__ import annotations

import getpass
from typing import Any

from sqlmodel import Session, col, select

from models.account import AuditEntry
from zwgk.clock import as_utc

ACTION_LABELS = {
    "login": "登录",
    "logout": "退出登录",
    "login-failed": "登录失败",
    "login-refused": "锁定期间登录",
    "lockout": "账号锁定",
    "user-add": "新增账号",
    "user-disable": "停用账号",
    "user-passwd": "重设密码",
    "complete": "登记完成",
    "waive": "免办",
    "reopen": "重新打开",
    "accept": "审核通过",
    "return": "退回",
    "withdraw": "撤回",
    "move-due": "调整截止日期",
    "reclock": "重算办理时限",
    "extend": "延长截止日期",
    "import-units": "导入单位名录",
    "import-plan": "导入工作要点",
    "import-holidays": "导入节假日安排",
    "import-register": "导入依申请公开登记",
    "import-figures": "导入年报表格数据",
    "run": "启动工作流",
    "outbox-retry": "重试发送邮件",
}


def record(
    *,
    session: Session,
    user: str,
    action: str,
    target: str = "",
    detail: str = "",
    district: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add one entry to the session (the caller's transaction commits it with the change)."""
    entry = AuditEntry(
        user=user,
        action=action,
        target=target,
        detail=detail,
        district=district,
        before=before,
        after=after,
    )
    session.add(entry)
    return entry


def cli_actor() -> str:
    """Who runs a command: ``cli:<operating-system user>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def entries(
    *,
    session: Session,
    district: str | None = None,
    limit: int = 200,
    before_id: int | None = None,
    action: str | None = None,
) -> list[AuditEntry]:
    """Newest first. With ``district``: that district's entries only (an account limited to a
    district sees nothing of the others, nor installation-wide entries)."""
    stmt = select(AuditEntry)
    if district is not None:
        stmt = stmt.where(AuditEntry.district == district)
    if before_id is not None:
        stmt = stmt.where(col(AuditEntry.id) < before_id)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    stmt = stmt.order_by(col(AuditEntry.id).desc()).limit(limit)
    return list(session.exec(stmt))


def entry_json(entry: AuditEntry) -> dict[str, Any]:
    at = as_utc(entry.at)
    return {
        "id": entry.id,
        "at": at.isoformat() if at else None,
        "user": entry.user,
        "action": entry.action,
        "target": entry.target,
        "district": entry.district,
        "detail": entry.detail,
        "before": entry.before,
        "after": entry.after,
    }
