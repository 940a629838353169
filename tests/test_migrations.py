"""Schema migrations (Alembic) on the suite's database: SQLite, or PostgreSQL with --db."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import models  # noqa: F401
from tests.cli import run_subprocess
from zwgk.db import make_engine
from zwgk.migrations import BASELINE, current, downgrade, head, upgrade


@pytest.fixture
def empty_engine(tmp_path: Path, database_url: str | None) -> Iterator[Engine]:
    """An app database with no tables (on PostgreSQL: the test's database taken down to base,
    which exercises every downgrade)."""
    engine = make_engine(database_url or f"sqlite:///{tmp_path / 'zwgk.db'}")
    if database_url:
        downgrade(engine, "base")
    assert not set(inspect(engine).get_table_names()) - {"alembic_version"}
    yield engine
    engine.dispose()


def _differences(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(ctx, SQLModel.metadata))


def test_upgrade_from_empty_gives_exactly_the_models(empty_engine: Engine) -> None:
    before, after = upgrade(empty_engine)
    assert before is None and after == head()
    assert _differences(empty_engine) == []
    assert upgrade(empty_engine) == (head(), head())  # at head: nothing to do


def test_down_to_base_and_up_again(empty_engine: Engine) -> None:
    upgrade(empty_engine)
    downgrade(empty_engine, "base")
    assert set(inspect(empty_engine).get_table_names()) <= {"alembic_version"}
    upgrade(empty_engine)
    assert _differences(empty_engine) == []


def test_a_database_from_before_migrations_is_adopted_with_its_data(empty_engine: Engine) -> None:
    # What zwgk made before migrations existed: the baseline tables, no alembic_version.
    upgrade(empty_engine, BASELINE)
    with empty_engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))
        conn.execute(
            text(
                "INSERT INTO unit (district, name, aliases, kind, email, contact, groups, active,"
                " created_at, updated_at) VALUES ('测试区', '区教育局', '[]', 'department',"
                " 'jyj@test.example.gov.cn', '陈丽', '[]', true, '2026-01-01 00:00:00+00',"
                " '2026-01-01 00:00:00+00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO outboxmessage (key, recipient, cc, obligation, period, kind, subject,"
                " body_text, body_html, status, attempts, created_at) VALUES ('k1',"
                " 'jyj@test.example.gov.cn', '[]', 'monthly-filing', '2026-11', 'assignment',"
                " '主题', '正文', '<p>正文</p>', 'pending', 0, '2026-11-01 00:00:00+00')"
            )
        )
    before, after = upgrade(empty_engine)
    assert (before, after) == (BASELINE, head())
    assert _differences(empty_engine) == []
    with empty_engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM unit")).scalar_one() == "区教育局"
        row = conn.execute(text("SELECT status, next_attempt_at FROM outboxmessage")).one()
        assert tuple(row) == ("pending", None)


def test_two_processes_upgrading_at_once(
    empty_engine: Engine, tmp_path: Path, database_url: str | None
) -> None:
    """Workers starting together: the lock lets one create the tables, the other waits."""
    import subprocess
    import sys

    env = {
        "ZWGK_VAR_DIR": str(tmp_path),
        **({"ZWGK_DATABASE_URL": database_url} if database_url else {}),
    }
    import os

    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "zwgk.cli", "db", "upgrade"],
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert sum("升级到" in out for out, _ in outs) == 1, outs
    with empty_engine.connect() as conn:
        assert current(conn) == head()


def test_db_commands(tmp_path: Path, database_url: str | None) -> None:
    env = {"ZWGK_VAR_DIR": str(tmp_path / "var")}
    if database_url:
        env["ZWGK_DATABASE_URL"] = database_url
    r = run_subprocess("db", "current", env=env)
    assert r.code == 0
    r = run_subprocess("db", "upgrade", env=env)
    assert r.code == 0 and head() in r.out and "Traceback" not in r.err
    r = run_subprocess("db", "current", env=env)
    assert r.out.strip() == f"{head()}（最新）"
    r = run_subprocess("db", "revision", "-m", "nothing changed", env=env)
    assert r.code != 0 and "没有需要生成的迁移" in r.err
    assert not list(
        (Path(__file__).parents[1] / "zwgk" / "migrations" / "versions").glob("*nothing*")
    )


def test_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    env = {
        "ZWGK_VAR_DIR": str(tmp_path),
        "ZWGK_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:9/none",
    }
    r = run_subprocess("db", "upgrade", env=env)
    assert r.code == 3 and r.err.startswith("错误：无法访问数据库") and "Traceback" not in r.err
