"""Shared fixtures: a fresh app database per test, a real SMTP server, the Prefect harness.

The app database is a real SQLite file by default; ``pytest --db postgresql`` (or
``ZWGK_TEST_DB=postgresql``) runs the same tests on a real PostgreSQL server started for the
session (``tests/pgserver.py``), each test on its own database cloned from one migrated to
head. ``ZWGK_TEST_PG_URL`` uses an existing server instead.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.factories import write_units_csv
from tests.smtpd import SMTPServer

# Prefect keeps its own state apart from the app and from the user's ~/.prefect.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


@pytest.fixture(autouse=True)
def official_holidays(monkeypatch: pytest.MonkeyPatch) -> None:
    """The calendar's official data is the tests' own (2020–2026, tests/holidays.py), not the
    installed chinesecalendar release's, so a release that adds 2027 changes no test."""
    from tests.holidays import GIVEN
    from workflows import workcal

    monkeypatch.setattr(workcal, "OFFICIAL", GIVEN)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=["sqlite", "postgresql"],
        default=os.environ.get("ZWGK_TEST_DB", "sqlite"),
        help="app database the tests run on (default sqlite)",
    )


def pytest_report_header(config: pytest.Config) -> str:
    return f"zwgk app database: {config.getoption('--db')}"


TEMPLATE_DB = "zwgk_template"


@pytest.fixture(scope="session")
def pg_admin(request: pytest.FixtureRequest) -> Iterator[tuple[str, str] | None]:
    """(admin DSN, URL prefix) of the PostgreSQL server, with a template DB at head."""
    if request.config.getoption("--db") != "postgresql":
        yield None
        return
    from tests.pgserver import PostgresServer, PostgresUnavailable, create_database

    server = None
    external = os.environ.get("ZWGK_TEST_PG_URL")
    if external:
        base = external.rsplit("/", 1)[0]
        admin = base.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    else:
        try:
            server = PostgresServer().start()
        except PostgresUnavailable as exc:
            pytest.exit(f"--db postgresql: {exc}", returncode=3)
        admin = server.dsn("postgres")
        base = server.url("postgres").rsplit("/", 1)[0]
    create_database(admin, TEMPLATE_DB)
    from zwgk.db import make_engine
    from zwgk.migrations import upgrade

    engine = make_engine(f"{base}/{TEMPLATE_DB}")
    upgrade(engine)
    engine.dispose()
    yield admin, base
    if server is not None:
        server.stop()


_db_numbers = itertools.count(1)


@pytest.fixture
def database_url(pg_admin: tuple[str, str] | None) -> Iterator[str | None]:
    """None on SQLite (each test's own var/zwgk.db); else a fresh PostgreSQL database."""
    if pg_admin is None:
        yield None
        return
    import psycopg
    from psycopg import sql

    admin, base = pg_admin
    name = f"zwgk_test_{os.getpid()}_{next(_db_numbers)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(TEMPLATE_DB)
            )
        )
    yield f"{base}/{name}"
    from zwgk.db import reset_engine

    reset_engine()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SMTPServer]:
    server = SMTPServer().start()
    yield server
    server.stop()


@pytest.fixture
def smtp(smtp_server: SMTPServer) -> Iterator[SMTPServer]:
    smtp_server.recorder.clear()
    yield smtp_server
    smtp_server.recorder.clear()


@pytest.fixture
def env(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    smtp_server: SMTPServer,
    database_url: str | None,
) -> Iterator[Path]:
    """A fresh var/ and app database (a real SQLite file, or PostgreSQL with --db postgresql)
    with mail going to the test server."""
    from zwgk.config import reset_settings

    var = tmp_path / "var"
    for key in list(os.environ):
        if key.startswith("ZWGK_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("ZWGK_VAR_DIR", str(var))
    if database_url:
        monkeypatch.setenv("ZWGK_DATABASE_URL", database_url)
    monkeypatch.setenv("ZWGK_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("ZWGK_SMTP_PORT", str(smtp_server.port))
    monkeypatch.setenv("ZWGK_SMTP_SECURITY", "none")
    monkeypatch.setenv("ZWGK_SMTP_TIMEOUT", "5")
    monkeypatch.setenv("ZWGK_MAIL_FROM", "政务公开办 <zwgk@test.example.gov.cn>")
    reset_settings()
    from zwgk.migrations import init_db

    init_db()
    yield var
    reset_settings()


@pytest.fixture
def directory(env: Path, tmp_path: Path) -> str:
    """The small test directory imported as district 测试区."""
    from zwgk.db import session_scope
    from zwgk.intake.directory import import_units

    path = write_units_csv(tmp_path / "units.csv")
    with session_scope() as s:
        import_units(session=s, path=path, district="测试区")
    return "测试区"


@pytest.fixture
def sample_directory(env: Path) -> str:
    """The sample directory that ships with the project (长宁区)."""
    from zwgk.db import session_scope
    from zwgk.intake.directory import import_units

    path = Path(__file__).parents[1] / "zwgk" / "data" / "sample_units.csv"
    with session_scope() as s:
        import_units(session=s, path=path, district="长宁区")
    return "长宁区"


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One Prefect test server for the whole session (it takes 10–20 s to start)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def web(env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """`zwgk web`'s app served by uvicorn on a free loopback port."""
    import threading
    import time
    import urllib.request

    import uvicorn

    from tests.smtpd import free_port
    from zwgk.config import reset_settings
    from zwgk.web.app import create_app

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("ZWGK_WEB_BASE_URL", base)
    reset_settings()
    server = uvicorn.Server(
        uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/health", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    yield base
    server.should_exit = True
    thread.join(timeout=10)
