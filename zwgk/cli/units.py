"""``zwgk units``: the directory of responsible units (责任单位名录) and a district's own unit kinds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from zwgk.cli.common import DistrictOption, audit, echo_json, open_db
from zwgk.errors import UserError

app = typer.Typer(help="责任单位名录", no_args_is_help=True)


def target_district(session: Any, district: str | None) -> str:
    """--district, else ZWGK_DEFAULT_DISTRICT, else the directory's only district."""
    from models.directory import districts
    from zwgk.config import get_settings

    d = district or get_settings().default_district
    if d:
        return d
    known = districts(session=session)
    if len(known) != 1:
        raise UserError("请用 --district 指定区名（如 --district 长宁区）")
    return str(known[0])


@app.command("import")
def units_import(
    file: Annotated[Path, typer.Argument(help="CSV：name,aliases,kind,email,contact,groups")],
    district: Annotated[str | None, typer.Option("--district", help="区名，如 长宁区")] = None,
) -> None:
    """导入（或更新）单位名录；重复导入同一文件不产生变化。"""
    from zwgk.intake.directory import import_units

    with open_db() as session:
        d = target_district(session, district)
        result = import_units(session=session, path=file, district=d)
        summary = (
            f"新增 {result.created} 个单位，更新 {result.updated} 个，未变 {result.unchanged} 个。"
        )
        before, after = result.audit_values()
        audit(
            session,
            "import-units",
            file,
            f"导入单位名录「{file.name}」：{summary}",
            district=d,
            before=before,
            after=after,
        )
    typer.echo(f"{d}：{summary}")
    for change in result.changes:
        typer.echo(f"  {change.unit} {change}")


kinds_app = typer.Typer(help="本区自定的单位类别（默认类别之外）", no_args_is_help=True)
app.add_typer(kinds_app, name="kinds")


@kinds_app.command("import")
def units_kinds_import(
    file: Annotated[Path, typer.Argument(help="CSV：kind,label,groups（groups 以 | 分隔）")],
    district: Annotated[str | None, typer.Option("--district", help="区名，如 长宁区")] = None,
) -> None:
    """导入（或更新）本区自定的单位类别及其组名；单位名录的 kind 列即可使用这些类别。"""
    from zwgk.intake.directory import import_kinds

    with open_db() as session:
        d = target_district(session, district)
        result = import_kinds(session=session, path=file, district=d)
    typer.echo(
        f"{d}：新增 {result.created} 个类别，更新 {result.updated} 个，未变 {result.unchanged} 个。"
    )


@kinds_app.command("list")
def units_kinds_list(
    district: DistrictOption = None,
) -> None:
    """列出单位类别：默认类别及各区自定的类别，以及各类别对应的组名。"""
    from sqlmodel import select

    from models.directory import KIND_GROUPS, kind_label
    from models.unit import KIND_LABELS, DistrictKind

    for kind, label in KIND_LABELS.items():
        typer.echo(f"（默认）  {kind}  [{label}]  组名：{'、'.join(KIND_GROUPS[kind])}")
    with open_db() as session:
        stmt = select(DistrictKind)
        if district:
            stmt = stmt.where(DistrictKind.district == district)
        for k in session.exec(stmt.order_by(DistrictKind.district, DistrictKind.id)):  # type: ignore[arg-type]
            groups = "、".join(k.groups) or "（无）"
            label = kind_label(k.kind, {k.kind: k})
            extra = "（默认类别，本区另加组名）" if k.kind in KIND_LABELS else ""
            typer.echo(f"{k.district}  {k.kind}  [{label}]{extra}  组名：{groups}")


@app.command("list")
def units_list(
    district: DistrictOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """列出单位名录。"""
    from models.directory import declared_kinds, kind_label, list_units

    with open_db() as session:
        units = list_units(session=session, district=district)
        declared = {
            d: declared_kinds(session=session, district=d) for d in {u.district for u in units}
        }
    if as_json:
        echo_json(
            [
                {
                    "name": u.name,
                    "aliases": u.aliases,
                    "kind": str(u.kind),
                    "email": u.email,
                    "contact": u.contact,
                    "district": u.district,
                    "groups": u.groups,
                }
                for u in units
            ]
        )
        return
    from zwgk.cli.table import print_table

    print_table(
        ["区", "单位", "又称", "类别", "联络员", "邮箱"],
        [
            (
                u.district,
                u.name,
                "、".join(u.aliases),
                kind_label(u.kind, declared[u.district]),
                u.contact,
                u.email,
            )
            for u in units
        ],
    )
    typer.echo(f"共 {len(units)} 个单位。")
