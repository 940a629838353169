"""User-facing errors: one clear Chinese message, a non-zero exit, no traceback."""

from __future__ import annotations

import re

_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class UserError(Exception):
    """A problem with what the user gave us (file, row, field, value).

    The message is Chinese and user-facing; the CLI prints it and exits with ``exit_code``.
    """

    exit_code = 2

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if exit_code is not None:
            self.exit_code = exit_code


def clip(value: str, limit: int = 40) -> str:
    """A value fit to quote in a message: control characters shown escaped, long text cut."""
    shown = value if len(value) <= limit else value[:limit] + f"…（共 {len(value)} 字）"
    return _CONTROL_RE.sub(lambda m: f"\\x{ord(m.group()):02x}", shown)


def where(file: str | None = None, row: int | None = None, field: str | None = None) -> str:
    """Format the location of a bad input as the Chinese prefix of an error message."""
    parts = []
    if file:
        parts.append(f"文件 {file}")
    if row is not None:
        parts.append(f"第 {row} 行")
    if field:
        parts.append(f"字段「{field}」")
    return "，".join(parts)


def refused(what: str, errors: list[str], *, shown: int = 20) -> UserError:
    """One error for a file refused whole: ``what`` (e.g. "单位名录") and its first
    ``shown`` problems, one a line, with how many more there are."""
    more = f"\n（另有 {len(errors) - shown} 处错误未列出）" if len(errors) > shown else ""
    return UserError(f"{what}有误，未导入任何数据：\n" + "\n".join(errors[:shown]) + more)
