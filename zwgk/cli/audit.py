"""``zwgk audit``: the audit log (操作日志) of changes made from the web and the CLI."""

from __future__ import annotations

from typing import Annotated

import typer

from zwgk.cli.common import open_db

app = typer.Typer(help="操作日志", no_args_is_help=True)


@app.command("list")
def audit_list(
    limit: Annotated[int, typer.Option("--limit", help="最多显示条数（最新的在前）")] = 100,
    district: Annotated[str | None, typer.Option("--district", help="只看本区")] = None,
    action: Annotated[str | None, typer.Option("--action", help="只看某类操作，如 login")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """查看操作日志：谁、何时、做了什么、改动前后。"""
    import json

    from zwgk.access.audit import ACTION_LABELS, entries, entry_json
    from zwgk.errors import UserError

    if limit <= 0:
        raise UserError(f"--limit 应大于 0，收到「{limit}」")
    with open_db() as session:
        rows = [
            entry_json(e)
            for e in entries(session=session, district=district, limit=limit, action=action)
        ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    from datetime import datetime

    from notifications.render import cn_time
    from zwgk.access.audit_view import actor_label, target_label, value_lines
    from zwgk.cli.table import print_table

    table = [
        (
            cn_time(datetime.fromisoformat(r["at"]), seconds=True),
            actor_label(r["user"]),
            ACTION_LABELS.get(r["action"], r["action"]),
            target_label(r["target"]),
            r["detail"],
            "\n".join(value_lines(r["before"], r["action"])),
            "\n".join(value_lines(r["after"], r["action"])),
        )
        for r in rows
    ]
    print_table(["时间", "操作人", "操作", "对象", "说明", "改动前", "改动后"], table)
    typer.echo(f"共 {len(rows)} 条（最新的在前）。")
