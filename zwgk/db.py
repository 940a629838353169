"""The app database (separate from Prefect's own): engine, sessions, transactions.

The schema (tables, migrations, ``init_db``) is ``zwgk.migrations``, above the models."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy import UniqueConstraint, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlmodel import Session, SQLModel, create_engine

from zwgk.config import Settings, get_settings

logger = logging.getLogger(__name__)
T = TypeVar("T")

_engine: Engine | None = None
_engine_settings: Settings | None = None  # the settings _engine was made from


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def get_engine() -> Engine:
    """The engine of the current settings; after ``reset_settings()`` (new settings) a new one."""
    global _engine, _engine_settings
    settings = get_settings()
    if _engine is None or _engine_settings is not settings:
        reset_engine()
        _engine, _engine_settings = make_engine(settings.db_url), settings
    return _engine


def reset_engine() -> None:
    global _engine, _engine_settings
    if _engine is not None:
        _engine.dispose()
    _engine = _engine_settings = None


@contextmanager
def session_scope() -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error."""
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


# SQLSTATEs worth running the whole transaction again for: serialization failure and
# deadlock (PostgreSQL); SQLite reports its lock time-out as OperationalError "locked".
_RETRY_SQLSTATES = {"40001", "40P01"}
_UNIQUE_VIOLATION = "23505"  # PostgreSQL
_SQLITE_UNIQUE = "UNIQUE constraint failed: "


def unique_keys() -> dict[str, frozenset[str]]:
    """Every named unique constraint of the app's tables, as its columns ("table.column")."""
    return {
        str(c.name): frozenset(f"{table.name}.{column.name}" for column in c.columns)
        for table in SQLModel.metadata.tables.values()
        for c in table.constraints
        if isinstance(c, UniqueConstraint) and c.name
    }


def violated_unique_key(exc: IntegrityError) -> str | None:
    """The name of the unique constraint ``exc`` reports, or None when it reports anything
    else (NOT NULL, a foreign key, a check, a primary key).

    PostgreSQL names the constraint; SQLite names its columns ("UNIQUE constraint failed:
    checklistitem.obligation, checklistitem.period, …"), matched here to the constraint.
    """
    orig = exc.orig
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if code is not None:
        if code != _UNIQUE_VIOLATION:
            return None
        return getattr(getattr(orig, "diag", None), "constraint_name", None)
    message = str(orig)
    if not message.startswith(_SQLITE_UNIQUE):
        return None
    columns = frozenset(c.strip() for c in message.removeprefix(_SQLITE_UNIQUE).split(","))
    return next((name for name, key in unique_keys().items() if key == columns), None)


def _retry_reason(exc: DBAPIError, collisions: Collection[str]) -> str | None:
    """Why ``exc`` is worth running the transaction again for, or None to re-raise it."""
    if isinstance(exc, IntegrityError):
        key = violated_unique_key(exc)
        return f"unique key {key}" if key in collisions else None
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    if code in _RETRY_SQLSTATES:
        return f"SQLSTATE {code}"
    if isinstance(exc, OperationalError) and "locked" in str(exc.orig):
        return "database locked"
    return None


def transact(
    work: Callable[[Session], T],
    *,
    collisions: Collection[str],
    attempts: int = 3,
    what: str = "transaction",
) -> T:
    """Run ``work`` in one transaction; if a concurrent run wrote the same unique rows first
    (or the database asks for a retry), roll back and run it again from the start.

    ``collisions``: the unique constraints (by name, e.g. ``uq_item_key``) on which a
    concurrent run of the same work may get there first. Only those are retried; any other
    integrity error (another unique key, NOT NULL, a foreign key) is a bug and raised at
    once. A serialization failure or deadlock (PostgreSQL) and SQLite's lock time-out are
    the database asking for a retry, and retried too.

    ``work`` must be idempotent: on the second pass it sees the other run's committed rows
    and creates nothing twice. This is how two runs of the same flow and period at once
    (a manual trigger during the scheduled one) end with one item and one mail per unit.
    """
    unknown = set(collisions) - set(unique_keys())
    if unknown:
        raise ValueError(f"transact: no unique constraint named {sorted(unknown)}")
    for attempt in range(1, attempts):
        try:
            with session_scope() as session:
                return work(session)
        except DBAPIError as exc:
            reason = _retry_reason(exc, collisions)
            if reason is None:
                raise
            logger.warning(
                "%s collided with a concurrent run (%s); retrying (%d/%d)",
                what,
                reason,
                attempt,
                attempts - 1,
            )
    with session_scope() as session:
        return work(session)
