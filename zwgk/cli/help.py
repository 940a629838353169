"""``--help`` pages in Chinese: typer's panel titles and click's usage prefix and help option.

Typer keeps these strings as module constants of ``typer.rich_utils`` (made to be set by an
application) and click's help formatter and help option take them from the context's
``formatter_class`` and ``Command.get_help_option``. Set once, before any help is printed;
``tests/test_cli.py`` fails if an English word of typer's comes back after an upgrade.
"""

from __future__ import annotations

import re
import sys
from typing import Any

import typer
import typer.rich_utils as rich_utils

HELP_OPTION_TEXT = "显示本说明并退出。"
USAGE_PREFIX = "用法："
# typer shows a value's Python type (<str>, <int>, <Path>); a civil servant reads these.
TYPE_NAMES = {
    "str": "文本",
    "int": "整数",
    "float": "数值",
    "Path": "路径",
    "path": "路径",
    "file": "文件",
    "directory": "文件夹",
    "datetime": "日期",
}


def _click_core() -> Any:
    """The click core module behind the installed typer (``typer._click`` or click)."""
    command = typer.core.TyperCommand
    core = next(c for c in command.__mro__ if c.__name__ == "Command")
    return sys.modules[core.__module__]


def chinese_help() -> None:
    rich_utils.ARGUMENTS_PANEL_TITLE = "参数"
    rich_utils.OPTIONS_PANEL_TITLE = "选项"
    rich_utils.COMMANDS_PANEL_TITLE = "命令"
    rich_utils.ERRORS_PANEL_TITLE = "错误"
    rich_utils.ABORTED_TEXT = "已中止。"
    rich_utils.DEFAULT_STRING = "[默认：{}]"
    rich_utils.ENVVAR_STRING = "[环境变量：{}]"
    rich_utils.REQUIRED_LONG_STRING = "[必填]"
    rich_utils.DEPRECATED_STRING = "（已停用）"
    rich_utils.RICH_HELP = "运行 [blue]'{command_path} {help_option}'[/] 查看说明。"

    core = _click_core()
    base_formatter = core.Context.formatter_class

    if not getattr(base_formatter, "_zwgk", False):

        class Formatter(base_formatter):  # type: ignore[misc, valid-type]
            _zwgk = True

            def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
                super().write_usage(prog, args, USAGE_PREFIX if prefix is None else prefix)

        core.Context.formatter_class = Formatter

    parameter = typer.core._TyperParameter
    if not getattr(parameter.display_type, "_zwgk", False):
        as_typed = parameter.display_type

        def display_type(self: Any, ctx: Any) -> str:
            label: str = as_typed(self, ctx)
            if self.type_descriptor.is_choice:
                return label  # choices are shown as the values to type
            words = re.sub(r"[A-Za-z]+", lambda m: TYPE_NAMES.get(m.group(), m.group()), label)
            return words.replace("list[", "多个").replace("]", "")

        display_type._zwgk = True  # type: ignore[attr-defined]
        parameter.display_type = display_type  # type: ignore[method-assign]

    option = typer.core.TyperOption
    if not getattr(option.display_type_rich, "_zwgk", False):
        shown = option.display_type_rich

        def display_type_rich(self: Any, ctx: Any) -> str | None:
            if self.is_flag:
                return None  # a switch takes no value: no <bool> beside it
            return shown(self, ctx)

        display_type_rich._zwgk = True  # type: ignore[attr-defined]
        option.display_type_rich = display_type_rich  # type: ignore[method-assign]

    command = core.Command
    if not getattr(command.get_help_option, "_zwgk", False):
        original = command.get_help_option

        def get_help_option(self: Any, ctx: Any) -> Any:
            option = original(self, ctx)
            if option is not None:
                option.help = HELP_OPTION_TEXT
            return option

        get_help_option._zwgk = True  # type: ignore[attr-defined]
        command.get_help_option = get_help_option
