"""What every command module shares: JSON and warning output, dates from arguments, the
database session, and writing a report file.

Command modules import the library inside each command function, not at the top: ``zwgk
--help`` and a usage error then start in about 0.1 s instead of loading SQLModel, the
registry and Prefect (1–3 s) for a command that needs none of them. Those imports all point
downward (kernel, models, workflows, notifications, intake, reports, deployments).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from zwgk.errors import UserError

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from sqlmodel import Session


# The ``--district`` of a command that works on one district: resolved like every other
# (``models.directory.resolve_district``), so it may be left out with one district or a default.
DistrictOption = Annotated[
    str | None,
    typer.Option(
        "--district",
        help="区名，如 长宁区（只有一个区，或已设置 ZWGK_DEFAULT_DISTRICT 时可省略）",
    ),
]


def echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def warn(message: str) -> None:
    typer.echo(f"注意：{message}", err=True)


def parse_day(value: str, what: str = "日期") -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise UserError(f"{what}「{value}」无效，应为 YYYY-MM-DD（如 2026-11-25）") from None


def open_db() -> AbstractContextManager[Session]:
    """The database, created or upgraded first, as a session context (``with open_db() as s``)."""
    from zwgk.db import session_scope
    from zwgk.migrations import init_db

    init_db()
    return session_scope()


def audit(
    session: Session,
    action: str,
    file: Path,
    detail: str,
    *,
    district: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Write a CLI change to the audit log (操作日志) in the change's own transaction, under
    ``cli:<operating-system user>``, as the workbench writes the same import under its account."""
    from zwgk.access.audit import cli_actor, record

    record(
        session=session,
        user=cli_actor(),
        action=action,
        target=file.name,
        detail=detail,
        district=district,
        before=before,
        after=after,
    )


def write_file(out: Path, data: bytes) -> None:
    """Write ``out`` whole or not at all (through a temporary file beside it)."""
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(out)
