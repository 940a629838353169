"""Shared fixtures: a fresh app database per test, a real SMTP server, the Prefect harness."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.factories import write_units_csv
from tests.smtpd import SMTPServer

# Prefect keeps its own state apart from the app and from the user's ~/.prefect.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


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
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp_server: SMTPServer) -> Iterator[Path]:
    """A fresh var/ (app database in a real SQLite file) with mail going to the test server."""
    from zwgk.config import reset_settings

    var = tmp_path / "var"
    for key in list(os.environ):
        if key.startswith("ZWGK_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("ZWGK_VAR_DIR", str(var))
    monkeypatch.setenv("ZWGK_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("ZWGK_SMTP_PORT", str(smtp_server.port))
    monkeypatch.setenv("ZWGK_SMTP_SECURITY", "none")
    monkeypatch.setenv("ZWGK_SMTP_TIMEOUT", "5")
    monkeypatch.setenv("ZWGK_MAIL_FROM", "政务公开办 <zwgk@test.example.gov.cn>")
    reset_settings()
    from zwgk.db import init_db

    init_db()
    yield var
    reset_settings()


@pytest.fixture
def directory(env: Path, tmp_path: Path) -> str:
    """The small test directory imported as district 测试区."""
    from zwgk.db import session_scope
    from zwgk.directory import import_units

    path = write_units_csv(tmp_path / "units.csv")
    with session_scope() as s:
        import_units(session=s, path=path, district="测试区")
    return "测试区"


@pytest.fixture
def sample_directory(env: Path) -> str:
    """The sample directory that ships with the project (长宁区)."""
    from zwgk.db import session_scope
    from zwgk.directory import import_units

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
