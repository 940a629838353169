"""``zwgk init``: the database, and the sample directory on request."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zwgk.cli.common import open_db

app = typer.Typer()


@app.command()
def init(
    sample: Annotated[
        bool, typer.Option("--sample", help="同时导入示例单位名录（长宁区）")
    ] = False,
    if_empty: Annotated[bool, typer.Option("--if-empty", help="名录已有单位时不导入示例")] = False,
) -> None:
    """创建数据库表；--sample 同时导入示例名录。"""
    from models.directory import districts
    from zwgk.config import get_settings
    from zwgk.intake.directory import import_units

    with open_db() as session:
        typer.echo(f"数据库已就绪：{get_settings().db_url}")
        if not sample:
            return
        if if_empty and districts(session=session):
            typer.echo("名录中已有单位，跳过示例导入。")
            return
        path = Path(__file__).parents[1] / "data" / "sample_units.csv"
        result = import_units(session=session, path=path, district=SAMPLE_DISTRICT)
        typer.echo(
            f"已导入示例名录（{SAMPLE_DISTRICT}）：新增 {result.created} 个单位，更新 {result.updated} 个，未变 {result.unchanged} 个。"
        )


SAMPLE_DISTRICT = "长宁区"
