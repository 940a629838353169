"""``zwgk applications``: the register of information requests (依申请公开登记)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zwgk.cli.common import DistrictOption, audit, open_db

app = typer.Typer(help="依申请公开登记", no_args_is_help=True)


@app.command("import")
def applications_import(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV 或 XLSX：unit,received,applicant_type,outcome,replied[,ref,extended]"
        ),
    ],
    district: DistrictOption = None,
) -> None:
    """导入依申请公开登记（重复导入不会重复登记），并跟踪法定答复期限。"""
    from zwgk.config import get_settings
    from zwgk.intake.register import import_register

    with open_db() as session:
        r = import_register(session=session, path=file, district=district, settings=get_settings())
        summary = f"新增 {r.created} 件，更新 {r.updated} 件，未变 {r.unchanged} 件。"
        counts = {"新增": r.created, "更新": r.updated, "未变": r.unchanged}
        audit(
            session,
            "import-register",
            file,
            f"导入依申请公开登记「{file.name}」：{summary}",
            district=district,
            after=counts,
        )
    typer.echo(f"依申请公开登记：{summary}")


@app.command("add")
def applications_add(
    unit: Annotated[str, typer.Option("--unit")],
    received: Annotated[str, typer.Option("--received", help="收到日期 YYYY-MM-DD")],
    applicant_type: Annotated[
        str,
        typer.Option(
            "--applicant-type", help="自然人、商业企业、科研机构、社会公益组织、法律服务机构、其他"
        ),
    ],
    outcome: Annotated[
        str, typer.Option("--outcome", help="办理结果，如 予以公开、不予公开/属于国家秘密")
    ] = "",
    replied: Annotated[str, typer.Option("--replied", help="答复日期 YYYY-MM-DD")] = "",
    ref: Annotated[str, typer.Option("--ref", help="申请编号")] = "",
    extended: Annotated[bool, typer.Option("--extended", help="已延期答复")] = False,
    district: DistrictOption = None,
) -> None:
    """登记一件政府信息公开申请。"""
    import csv
    import tempfile

    from zwgk.config import get_settings
    from zwgk.intake.register import import_register

    # One row through the same validation as a file import.
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "命令行.csv"
        with path.open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(
                ["unit", "received", "applicant_type", "outcome", "replied", "ref", "extended"]
            )
            w.writerow(
                [unit, received, applicant_type, outcome, replied, ref, "yes" if extended else ""]
            )
        with open_db() as session:
            r = import_register(
                session=session, path=path, district=district, settings=get_settings()
            )
    typer.echo(
        "已登记。"
        if r.created
        else "该申请已登记过，已更新。"
        if r.updated
        else "该申请已登记过，未作改动。"
    )
