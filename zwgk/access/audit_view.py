"""The audit log as people read it: who, what and the before/after in Chinese.

The stored entry keeps its plain keys (``created``, ``flow_run_id``, ``cli:root`` …) and
``zwgk audit list --json`` prints them unchanged; the page and the CLI's table show them
through :func:`actor_label`, :func:`target_label` and :func:`value_lines`. A key without a
label is shown as it is.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from models.account import ROLE_LABELS
from models.outbox import STATUS_LABELS as OUTBOX_STATUS_LABELS
from notifications.render import cn_day, cn_time
from zwgk.errors import UserError

KEY_LABELS = {
    "created": "新增",
    "updated": "更新",
    "unchanged": "未变",
    "rows": "行数",
    "changed": "新增或变动",
    "flow_run_id": "工作流运行",
    "obligation": "事项",
    "period": "期间",
    "district": "区",
    "name": "账号",
    "role": "角色",
    "active": "启用",
    "locked_until": "锁定至",
    "failed_logins": "连续登录失败次数",
    "status": "状态",
    "attempts": "已尝试发送次数",
    "count": "封数",
    "ids": "邮件编号",
    "due": "截止日期",
    "evidence": "完成依据",
    "note": "备注",
    "completed_by": "办理人",
    "clock_from": "时限起算日",
    "more": "其余改动",
}

ITEM_STATUS_LABELS = {"pending": "待办", "done": "已完成", "waived": "免办"}
ROLE_BY_VALUE = {str(role): label for role, label in ROLE_LABELS.items()}
OUTBOX_BY_VALUE = {str(status): label for status, label in OUTBOX_STATUS_LABELS.items()}


def actor_label(user: str) -> str:
    """``cli:root`` → 命令行（root）; an account's name as it is."""
    if user == "cli":
        return "命令行"
    if user.startswith("cli:"):
        return f"命令行（{user[4:]}）"
    return user


def target_label(target: str) -> str:
    """``flow-run 5324…`` → 工作流运行 5324…, ``outbox 7`` → 邮件 #7, ``outbox`` → 待发邮件."""
    if target.startswith("flow-run "):
        return "工作流运行 " + target[len("flow-run ") :]
    if target == "outbox":
        return "待发邮件"
    if target.startswith("outbox "):
        return "邮件 #" + target[len("outbox ") :]
    return target


def _period_label(obligation: Any, period: Any) -> str:
    from workflows.registry import get_obligation

    try:
        return get_obligation(str(obligation)).parse_period(str(period)).label
    except UserError:
        return str(period)


def _obligation_title(slug: Any) -> str:
    from workflows.registry import item_titles

    return item_titles().get(str(slug), str(slug))


def _moment(value: str) -> str:
    try:
        if "T" in value:
            return cn_time(datetime.fromisoformat(value))
        return cn_day(date.fromisoformat(value))
    except ValueError:
        return value


def _value(key: str, value: Any, values: dict[str, Any], action: str) -> str:
    if key == "district" and value is None and action == "user-add":
        return "全部区"
    if value is None or value == "":
        return "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if key == "role":
        return ROLE_BY_VALUE.get(str(value), str(value))
    if key == "status":
        labels = OUTBOX_BY_VALUE if action.startswith("outbox") else ITEM_STATUS_LABELS
        return labels.get(str(value), str(value))
    if key == "obligation":
        return _obligation_title(value)
    if key == "period" and "obligation" in values:
        return _period_label(values["obligation"], value)
    if key in ("due", "clock_from", "locked_until") and isinstance(value, str):
        return _moment(value)
    if key == "more":
        return f"等{value}项（未逐项列出）"
    if key == "ids" and isinstance(value, list):
        return "、".join(f"#{v}" for v in value)
    if isinstance(value, list):
        return "；".join(str(v) for v in value)
    return str(value)


def value_lines(values: dict[str, Any] | None, action: str = "") -> list[str]:
    """One line per key, e.g. 新增：1 / 事项：月度公文备案 / 期间：2026年11月 / 启用：是."""
    if not values:
        return []
    return [
        f"{KEY_LABELS.get(key, key)}：{_value(key, value, values, action)}"
        for key, value in values.items()
    ]
