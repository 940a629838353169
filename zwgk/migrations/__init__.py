"""Schema migrations of the app database (Alembic), for SQLite and PostgreSQL.

Every schema change is a revision under ``versions/``: change a model in ``models/``, then
``zwgk db revision -m "what changed"`` writes the revision from the difference between the
models and a database at head; read it, and commit it with the model change.
``tests/test_migrations.py`` checks that upgrading an empty database to head gives exactly
the models' schema, on both databases.

:func:`init_db` (every command's and flow's start-up) runs :func:`upgrade` once per engine;
``zwgk db upgrade`` runs it directly. It

* returns at once when the database is at head (one query);
* takes a lock first (a PostgreSQL advisory lock; a file lock beside a SQLite file), so two
  workers starting together do not both create the tables;
* adopts a database created by zwgk before migrations existed (tables, no
  ``alembic_version``): it is stamped at the baseline revision, then upgraded.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, Engine

from zwgk.db import get_engine

HERE = Path(__file__).parent
BASELINE = "0001"
_PG_LOCK_KEY = 0x7A77676B  # "zwgk"

_migrated: Engine | None = None  # the engine init_db last brought to head


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    return cfg


@lru_cache
def head() -> str:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"migrations have {len(heads)} heads: {heads}; merge them")
    return heads[0]


def current(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def is_current(engine: Engine) -> bool:
    with engine.connect() as conn:
        return current(conn) == head()


@contextlib.contextmanager
def _sqlite_file_lock(engine: Engine) -> Iterator[None]:
    path = engine.url.database
    if not path or path == ":memory:":
        yield
        return
    lock = Path(path).with_name(Path(path).name + ".migrate.lock")
    with lock.open("w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str]:
    """Bring the database to ``revision``; returns (revision before, revision after)."""
    if revision == "head" and is_current(engine):
        rev = head()
        return rev, rev
    lock = (
        _sqlite_file_lock(engine) if engine.dialect.name == "sqlite" else contextlib.nullcontext()
    )
    with lock, engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY})")
        before = current(conn)
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        if before is None and inspect(conn).has_table("unit"):
            command.stamp(cfg, BASELINE)  # created by create_all before migrations existed
            before = BASELINE
        command.upgrade(cfg, revision)
        return before, current(conn) or ""


def init_db() -> None:
    """Bring the app database to the newest migration (once per engine; cheap when current)."""
    global _migrated
    engine = get_engine()
    if engine is _migrated:
        return
    upgrade(engine)
    _migrated = engine


def downgrade(engine: Engine, revision: str) -> None:
    with engine.begin() as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def new_revision(engine: Engine, message: str) -> list[Path]:
    """Write a revision from the difference between the models and the database at head."""
    with engine.begin() as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        rev_id = f"{len(list(ScriptDirectory.from_config(cfg).walk_revisions())) + 1:04d}"
        scripts = command.revision(cfg, message=message, autogenerate=True, rev_id=rev_id)
    if scripts is None:
        return []
    items = scripts if isinstance(scripts, list) else [scripts]
    return [Path(s.path) for s in items if s is not None]
