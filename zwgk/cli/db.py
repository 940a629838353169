"""``zwgk db``: the database schema (migrations)."""

from __future__ import annotations

from typing import Annotated

import typer

from zwgk.errors import UserError

app = typer.Typer(help="数据库结构（迁移）", no_args_is_help=True)


@app.command("upgrade")
def db_upgrade() -> None:
    """把数据库结构升级到最新版本（新装或升级 zwgk 后运行；其他命令也会自动执行）。"""
    from zwgk.config import get_settings
    from zwgk.db import get_engine
    from zwgk.migrations import upgrade

    before, after = upgrade(get_engine())
    where = _safe_url(get_settings().db_url)
    if before == after:
        typer.echo(f"数据库已是最新版本（{after}）：{where}")
    else:
        typer.echo(f"数据库已从 {before or '空库'} 升级到 {after}：{where}")


@app.command("current")
def db_current() -> None:
    """显示数据库结构的当前版本。"""
    from zwgk.db import get_engine
    from zwgk.migrations import current, head

    with get_engine().connect() as conn:
        rev = current(conn)
    state = "最新" if rev == head() else f"最新为 {head()}，请运行 zwgk db upgrade"
    typer.echo(f"{rev or '未初始化'}（{state}）")


@app.command("revision")
def db_revision(
    message: Annotated[str, typer.Option("-m", "--message", help="这次结构变更说明（英文）")],
) -> None:
    """（开发者）根据模型与数据库的差异生成一个迁移脚本。"""
    from zwgk.db import get_engine
    from zwgk.migrations import new_revision, upgrade

    engine = get_engine()
    upgrade(engine)
    paths = new_revision(engine, message)
    if not paths:
        raise UserError("模型与数据库结构一致，没有需要生成的迁移")
    for path in paths:
        typer.echo(f"已生成 {path}，请检查后与模型改动一起提交。")


def _safe_url(url: str) -> str:
    """The database URL without its password."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
