"""Command-line usage errors in Chinese: the usage line, one sentence, exit 2.

Typer 0.2x vendors click as ``typer._click``; older typers use click itself. The exception
classes are taken from whichever click ``typer.BadParameter`` comes from, so the handler
catches what the installed typer raises, and each kind is recognised by its class name.
"""

from __future__ import annotations

import re
from typing import Any

import typer


def click_classes() -> tuple[type[BaseException], type[BaseException]]:
    """(UsageError, ClickException) of the click that the installed typer uses."""
    mro = typer.BadParameter.__mro__
    usage = next(c for c in mro if c.__name__ == "UsageError")
    base = next(c for c in mro if c.__name__ == "ClickException")
    return usage, base


TYPE_NAMES = {
    "integer": "整数",
    "float": "数字",
    "boolean": "是/否（true/false）",
    "text": "文字",
    "datetime": "日期时间",
    "integer range": "范围内的整数",
    "float range": "范围内的数字",
}


def _param_name(exc: Any) -> str:
    hint = getattr(exc, "param_hint", None)
    if hint:
        return hint if isinstance(hint, str) else " / ".join(hint)
    param = getattr(exc, "param", None)
    if param is None:
        return ""
    if getattr(param, "param_type_name", "") == "argument":
        return str(getattr(param, "metavar", None) or (param.name or "").upper())
    opts = getattr(param, "opts", None) or [param.name]
    return str(max(opts, key=len))


ANNOTATION_NAMES = {int: "整数", float: "数字", bool: "是/否（true/false）"}


def _expected(param: Any) -> str:
    """What the parameter takes, in Chinese ("" when nothing useful can be said)."""
    ptype = getattr(param, "type", None)  # click's ParamType
    choices = getattr(ptype, "choices", None)
    if choices:
        return "、".join(str(c) for c in choices) + " 之一"
    if ptype is not None:
        return TYPE_NAMES.get(str(getattr(ptype, "name", "")), "")
    descriptor = getattr(param, "type_descriptor", None)  # typer 0.2x's own coercion
    choices = getattr(descriptor, "choices", None)
    if choices:
        return "、".join(str(c) for c in choices) + " 之一"
    return ANNOTATION_NAMES.get(getattr(descriptor, "annotation", None), "")  # type: ignore[arg-type]


def _quoted(message: str) -> str | None:
    m = re.search(r"'([^']*)'", message) or re.search(r'"([^"]*)"', message)
    return m.group(1) if m else None


def sentence(exc: Any) -> str:
    """One Chinese sentence for a click usage error."""
    kind = type(exc).__name__
    message = str(getattr(exc, "message", "") or exc)
    if kind == "NoSuchOption":
        option = getattr(exc, "option_name", "") or _quoted(message) or ""
        text = f"没有选项「{option}」"
        possibilities = sorted(getattr(exc, "possibilities", None) or [])
        if possibilities:
            return text + f"，是否为「{'」或「'.join(possibilities[:3])}」？"
        return text + "。"
    if kind == "MissingParameter":
        name = _param_name(exc)
        param = getattr(exc, "param", None)
        what = "选项" if getattr(param, "param_type_name", "") == "option" else "参数"
        return f"缺少{what} {name}。" if name else "缺少必需的参数。"
    if kind == "BadParameter":
        name = _param_name(exc)
        value = _quoted(message)
        expected = _expected(getattr(exc, "param", None))
        text = f"{name} 的值「{value}」无效" if value is not None else f"{name} 的值无效"
        if "does not exist" in message:
            return f"文件「{value}」不存在。" if value else "文件不存在。"
        return text + (f"：应为{expected}。" if expected else "。")
    if kind == "BadOptionUsage":
        option = getattr(exc, "option_name", "")
        if "requires an argument" in message:
            return f"选项 {option} 后面需要一个值。"
        return f"选项 {option} 的用法有误。"
    if message.startswith("No such command"):
        return f"没有命令「{_quoted(message) or ''}」。"
    if message.startswith("Got unexpected extra argument"):
        extra = re.search(r"\(([^()]*)\)\s*\.?$", message)
        return f"多余的参数「{extra.group(1) if extra else ''}」。"
    return f"命令用法有误（{message}）。"


def show(exc: Any) -> None:
    """Print the usage line, the Chinese sentence and where to find help, on stderr."""
    ctx = getattr(exc, "ctx", None)
    lines = []
    if ctx is not None:
        usage = re.sub(r"^\s*Usage:\s*", "用法：", ctx.get_usage())
        lines.append(usage)
    lines.append(f"错误：{sentence(exc)}")
    if ctx is not None:
        lines.append(f"运行 {ctx.command_path} --help 查看说明。")
    typer.echo("\n".join(lines), err=True)
