"""User-facing errors: one clear Chinese message, a non-zero exit, no traceback."""

from __future__ import annotations


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
