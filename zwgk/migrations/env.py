"""Alembic environment: the app database's schema is ``SQLModel.metadata`` (``models``).

Run through ``zwgk db upgrade`` / ``zwgk db revision`` (``zwgk.migrations``), which hand in
an open connection; plain ``alembic`` is not needed.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

import models  # noqa: F401  (registers the tables)

config = context.config
target_metadata = SQLModel.metadata


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Write plain SQLAlchemy types, so revisions do not depend on sqlmodel's internals."""
    if type_ == "type" and isinstance(obj, AutoString):
        return "sa.String()"
    if type_ == "type" and type(obj).__name__ == "UTCDateTime":
        return "sa.DateTime(timezone=True)"
    return False


def skip_empty(context, revision, directives) -> None:  # type: ignore[no-untyped-def]
    """No revision file when the models and the database already agree."""
    if directives and directives[0].upgrade_ops.is_empty():
        directives[:] = []


def run_migrations_online() -> None:
    connection = config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # ALTER on SQLite = copy table
        compare_type=True,
        render_item=render_item,
        process_revision_directives=skip_empty,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("zwgk migrations run online only (zwgk db upgrade)")
run_migrations_online()
