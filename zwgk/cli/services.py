"""``zwgk web``, ``serve``, ``up`` and ``mail capture``: the long-running services."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer()
mail_app = typer.Typer(help="本地邮件捕获", no_args_is_help=True)


@app.command("web")
def web_cmd(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
) -> None:
    """启动完成情况填报网页（各单位通过邮件中的链接访问）。"""
    import uvicorn

    from zwgk.config import get_settings
    from zwgk.migrations import init_db
    from zwgk.web.app import create_app

    init_db()
    typer.echo(f"填报网页：http://{host}:{port}（邮件中的链接前缀：{get_settings().web_base_url}）")
    typer.echo(f"政务公开工作台：http://{host}:{port}/admin/（账号用 zwgk users add 新建）")
    uvicorn.run(create_app(), host=host, port=port, log_level="warning")


@mail_app.command("capture")
def mail_capture(
    port: Annotated[int | None, typer.Option("--port")] = None,
) -> None:
    """启动本地邮件捕获服务，邮件存为 var/mail/*.eml。"""
    import time

    from notifications.capture import start_capture
    from zwgk.config import get_settings

    settings = get_settings()
    controller = start_capture(settings.mail_dir, port=port or settings.mail_capture_port)
    typer.echo(
        f"本地邮件捕获已启动：127.0.0.1:{controller.port}，邮件保存在 {settings.mail_dir}/（Ctrl-C 退出）"
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        controller.stop()


@app.command("serve")
def serve() -> None:
    """在 Prefect 中提供所有事项的定时部署（需要 Prefect 服务器）。"""
    from deployments.serve import serve_registered
    from zwgk.config import get_settings

    serve_registered(get_settings())


@app.command("up")
def up(
    port: Annotated[int, typer.Option("--port", help="Prefect 界面端口")] = 4200,
    web_port: Annotated[int, typer.Option("--web-port", help="填报网页端口")] = 8000,
) -> None:
    """本地一键启动：Prefect 服务器、填报网页、本地邮件捕获（未配置 SMTP 时）、全部定时部署。"""
    from deployments.local import run_local

    run_local(port=port, web_port=web_port)
