"""``zwgk users``: office accounts for the workbench (工作台账号)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from zwgk.cli.common import open_db
from zwgk.errors import UserError

app = typer.Typer(help="工作台账号（管理员、只读）", no_args_is_help=True)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise UserError("--password-stdin：标准输入为空，请在第一行输入密码")
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise UserError("请在终端中输入密码，或使用 --password-stdin 从标准输入读取")
    first = typer.prompt("密码", hide_input=True)
    if typer.prompt("再次输入密码", hide_input=True) != first:
        raise UserError("两次输入的密码不一致")
    return str(first)


@app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(metavar="NAME", help="账号名")],
    role: Annotated[str, typer.Option("--role", help="admin（管理员）或 viewer（只读）")],
    district: Annotated[
        str | None, typer.Option("--district", help="限于本区；不填则可见全部区")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="从标准输入第一行读取密码")
    ] = False,
) -> None:
    """新增工作台账号。"""
    from models.account import ROLE_LABELS
    from zwgk.access.accounts import add_user
    from zwgk.access.audit import cli_actor

    password = _read_password(password_stdin)
    with open_db() as session:
        user = add_user(
            session=session,
            name=name,
            role=role,
            password=password,
            district=district,
            actor=cli_actor(),
        )
        label = ROLE_LABELS[user.role]
    typer.echo(f"已新增账号「{name}」（{label}，{district or '全部区'}）。")


@app.command("list")
def users_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """列出工作台账号。"""
    from models.account import ROLE_LABELS
    from zwgk.access.accounts import list_users, locked_until
    from zwgk.clock import SHANGHAI, as_utc

    with open_db() as session:
        users = list_users(session=session)
    if as_json:
        import json

        rows = [
            {
                "name": u.name,
                "role": str(u.role),
                "district": u.district,
                "active": u.active,
                "locked_until": (lk.isoformat() if (lk := locked_until(u)) else None),
                "last_login_at": (
                    as_utc(u.last_login_at).isoformat()  # type: ignore[union-attr]
                    if u.last_login_at
                    else None
                ),
            }
            for u in users
        ]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    from zwgk.cli.table import print_table

    table = []
    for u in users:
        lock = locked_until(u)
        state = (
            "已停用"
            if not u.active
            else (f"锁定至 {lock.astimezone(SHANGHAI):%H:%M}" if lock else "正常")
        )
        last = as_utc(u.last_login_at)
        table.append(
            (
                u.name,
                ROLE_LABELS[u.role],
                u.district or "全部区",
                state,
                f"{last.astimezone(SHANGHAI):%Y-%m-%d %H:%M}" if last else "从未登录",
            )
        )
    print_table(["账号", "角色", "范围", "状态", "最近登录"], table)
    typer.echo(f"共 {len(users)} 个账号。")


@app.command("disable")
def users_disable(name: Annotated[str, typer.Argument(metavar="NAME")]) -> None:
    """停用账号（不能再登录，已登录的会话随即失效）。"""
    from zwgk.access.accounts import disable_user
    from zwgk.access.audit import cli_actor

    with open_db() as session:
        disable_user(session=session, name=name, actor=cli_actor())
    typer.echo(f"账号「{name}」已停用。")


@app.command("passwd")
def users_passwd(
    name: Annotated[str, typer.Argument(metavar="NAME")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="从标准输入第一行读取密码")
    ] = False,
) -> None:
    """重设账号密码（同时解除锁定，已登录的会话随即失效）。"""
    from zwgk.access.accounts import get_user, set_password
    from zwgk.access.audit import cli_actor

    with open_db() as session:  # name a missing account before asking for a password
        if get_user(session=session, name=name) is None:
            raise UserError(f"账号「{name}」不存在（zwgk users list 查看全部账号）")
    password = _read_password(password_stdin)
    with open_db() as session:
        set_password(session=session, name=name, password=password, actor=cli_actor())
    typer.echo(f"账号「{name}」的密码已重设。")
