"""Bulk INSERT of many rows of one table straight through the DBAPI ``executemany``.

The ORM (even its bulk mode) and Core spend several microseconds per row and column
building and converting parameters; a city-scale run inserts ~100,000 checklist items and
~600,000 reminder log rows. Here each column's SQLAlchemy bind conversion (dates as text
on SQLite, enums by name, aware datetimes to UTC, …) is still applied, exactly as the ORM
would, but once per distinct value, since most columns repeat a handful of values; the
rows then go to the driver as plain tuples in the caller's transaction.

Python-side column defaults are *not* applied: callers pass every column they need.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Table
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

_PLACEHOLDER = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def insert_rows(
    session: Session,
    table: Table,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
) -> None:
    """INSERT ``rows`` (tuples in the order of ``columns``) into ``table``."""
    rows = list(rows)
    if not rows:
        return
    conn = session.connection()
    dialect = conn.dialect
    placeholder = _PLACEHOLDER.get(dialect.paramstyle)
    if placeholder is None:  # pragma: no cover - every dialect we support is listed
        raise RuntimeError(f"unsupported DBAPI paramstyle {dialect.paramstyle}")
    quote = dialect.identifier_preparer.quote
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
        f"VALUES ({', '.join([placeholder] * len(columns))})"
    )
    converters = []
    for i, name in enumerate(columns):
        column = table.c[name]
        process = column.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            converters.append((i, process))
    if converters:
        # Column by column: each distinct value converted once, then mapped at C speed
        # (a per-row Python loop cost more than the INSERT itself for 500,000 rows).
        cols = [list(map(itemgetter(i), rows)) for i in range(len(columns))]
        for i, process in converters:
            cols[i] = list(_convert_column(cols[i], process))
        rows = list(zip(*cols, strict=True))  # equal lengths: built from the same rows
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        _copy(conn, table, columns, rows)
    else:
        conn.exec_driver_sql(sql, rows)  # type: ignore[arg-type]


def _copy(conn: Any, table: Table, columns: Sequence[str], rows: list[Sequence[Any]]) -> None:
    """PostgreSQL: ``COPY … FROM STDIN`` on the session's own connection (same transaction).
    400,000 checklist items took 20 s as an ``executemany`` of INSERTs, even pipelined; COPY
    streams the rows in one statement. Values are the bind-converted ones, which psycopg
    writes in COPY's text format as it would bind them."""
    quote = conn.dialect.identifier_preparer.quote
    statement = f"COPY {quote(table.name)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    dbapi = conn.connection.dbapi_connection
    try:
        with dbapi.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
    except conn.dialect.loaded_dbapi.Error as exc:
        # As SQLAlchemy raises it for a statement it runs: a unique key hit by a concurrent
        # run is an IntegrityError that ``zwgk.db.transact`` retries, as with executemany.
        raise DBAPIError.instance(
            statement, None, exc, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect
        ) from exc


def _convert_column(values: list[Any], process: Any) -> Any:
    try:
        mapping = {v: process(v) for v in set(values)}
    except TypeError:  # unhashable values (JSON lists): convert each
        return map(process, values)
    return map(mapping.__getitem__, values)
