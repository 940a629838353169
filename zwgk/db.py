"""The app database (separate from Prefect's own): engine, sessions, transactions.

The schema (tables, migrations, ``init_db``) is ``zwgk.migrations``, above the models."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlmodel import Session, create_engine

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


def _conflict(exc: DBAPIError) -> bool:
    if isinstance(exc, IntegrityError):
        return True
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    if code in _RETRY_SQLSTATES:
        return True
    return isinstance(exc, OperationalError) and "locked" in str(exc.orig)


def transact(work: Callable[[Session], T], *, attempts: int = 3, what: str = "transaction") -> T:
    """Run ``work`` in one transaction; if a concurrent run wrote the same unique rows first
    (or the database asks for a retry), roll back and run it again from the start.

    ``work`` must be idempotent: on the second pass it sees the other run's committed rows
    and creates nothing twice. This is how two runs of the same flow and period at once
    (a manual trigger during the scheduled one) end with one item and one mail per unit.
    """
    for attempt in range(1, attempts):
        try:
            with session_scope() as session:
                return work(session)
        except DBAPIError as exc:
            if not _conflict(exc):
                raise
            logger.warning(
                "%s collided with a concurrent run (%s); retrying (%d/%d)",
                what,
                exc.__class__.__name__,
                attempt,
                attempts - 1,
            )
    with session_scope() as session:
        return work(session)
