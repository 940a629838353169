"""``zwgk deployments``: prefect.yaml's deployments, written from the obligation registry."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zwgk.errors import UserError

app = typer.Typer(help="Prefect 部署（prefect.yaml）", no_args_is_help=True)


@app.command("write")
def deployments_write(
    file: Annotated[
        Path, typer.Option("--file", help="prefect.yaml 的路径（默认当前目录下的 prefect.yaml）")
    ] = Path("prefect.yaml"),
    check: Annotated[
        bool, typer.Option("--check", help="只检查是否与事项登记一致，不写入；不一致时退出码为 1")
    ] = False,
) -> None:
    """按事项登记重新生成 prefect.yaml 的 deployments 一节（其上手写的部分保持不变）。"""
    from deployments.spec import write_prefect_yaml

    result = write_prefect_yaml(file, check=check)
    if check and result.changed:
        raise UserError(
            f"{file} 的部署与事项登记不一致：请运行 zwgk deployments write 重新生成后提交",
            exit_code=1,
        )
    if result.changed:
        typer.echo(f"已按事项登记重新生成 {file} 的部署（{result.count} 个）。")
    else:
        typer.echo(f"{file} 的部署与事项登记一致（{result.count} 个），未作改动。")
