"""Two runs at once, as real processes: no duplicate item, no duplicate mail.

The race is made to happen, not hoped for: the test holds the app database's write lock
(SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: a table lock that lets reads through), starts
both processes, waits until both are inside their build step (each has read "nothing
exists yet" and is blocked on its first insert), then lets go. One run inserts first; the
other's insert hits the unique keys, and it must start over and create nothing.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from models import ChecklistItem, OutboxMessage
from tests.factories import queue_messages
from tests.smtpd import SMTPServer
from zwgk.config import get_settings
from zwgk.db import session_scope

pytestmark = pytest.mark.smtp


@contextlib.contextmanager
def write_lock(table: str) -> Iterator[None]:
    """Hold writers to the app database (to ``table`` on PostgreSQL) until the block ends."""
    url = get_settings().db_url
    if url.startswith("sqlite"):
        import sqlite3

        con = sqlite3.connect(url.split("///", 1)[1], isolation_level=None)
        con.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            con.execute("ROLLBACK")
            con.close()
        return
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as con:
        con.execute(f'LOCK TABLE "{table}" IN SHARE ROW EXCLUSIVE MODE')  # reads pass
        yield
        con.rollback()


def _start(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "zwgk.cli", *args],
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen[str], timeout: float = 180) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def _running_build_tasks() -> int:
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        TaskRunFilter,
        TaskRunFilterName,
        TaskRunFilterState,
        TaskRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    async def count() -> int:
        async with get_client() as client:
            runs = await client.read_task_runs(
                task_run_filter=TaskRunFilter(
                    name=TaskRunFilterName(like_="build_checklist_task"),
                    state=TaskRunFilterState(type=TaskRunFilterStateType(any_=[StateType.RUNNING])),
                )
            )
            return len(runs)

    return asyncio.run(count())


@pytest.mark.prefect
@pytest.mark.usefixtures("prefect_harness")
def test_two_runs_of_the_same_flow_and_period_at_once(directory: str, smtp: SMTPServer) -> None:
    from prefect.settings import PREFECT_API_URL

    api = {"PREFECT_API_URL": str(PREFECT_API_URL.value()), "PREFECT_LOGGING_LEVEL": "WARNING"}
    args = ("run", "monthly-filing", "--period", "2026-11")
    with write_lock("checklistitem"):
        procs = [_start(*args, env=api), _start(*args, env=api)]
        deadline = time.monotonic() + 120
        while _running_build_tasks() < 2:
            for p in procs:
                assert p.poll() is None, _finish(p)
            assert time.monotonic() < deadline, "the two runs never reached their build step"
            time.sleep(0.3)
        time.sleep(1.5)  # both have read the empty checklist and wait on their first insert
    results = [_finish(p) for p in procs]
    for code, out, err in results:
        assert code == 0, (out, err)
        assert "Traceback" not in err
    created = sorted(int(out.split("新建事项 ")[1].split(" 条")[0]) for _, out, _ in results)
    assert created == [0, 5], results
    # The loser really collided and started over (the race happened, it was not luck).
    assert sum("collided with a concurrent run" in err for _, _, err in results) == 1, results
    with session_scope() as s:
        items = list(s.exec(select(ChecklistItem)))
        outbox = list(s.exec(select(OutboxMessage)))
    assert len(items) == 5 and len({(i.unit_id, i.step) for i in items}) == 5
    assert len(outbox) == 5 and {m.status for m in outbox} == {"sent"}
    received = Counter(tuple(m.rcpt_tos) for m in smtp.messages)
    assert len(received) == 5 and set(received.values()) == {1}


def test_two_dispatchers_share_the_outbox_without_doubling(
    env: Path, smtp: SMTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue_messages(40)
    smtp.recorder.behaviour.slow_data = 0.03
    smtp.recorder.behaviour.slow_only_first = False
    small_chunks = {"ZWGK_OUTBOX_BATCH": "4"}
    with write_lock("outboxmessage"):
        procs = [_start("outbox", "send", env=small_chunks) for _ in range(2)]
        time.sleep(4)  # both started and waiting on their first claim
    results = [_finish(p) for p in procs]
    sent = []
    for code, out, err in results:
        assert code == 0 and "Traceback" not in err, (out, err)
        sent.append(int(out.split("已发送 ")[1].split(" 封")[0]))
    assert sum(sent) == 40, sent
    with session_scope() as s:
        assert {m.status for m in s.exec(select(OutboxMessage))} == {"sent"}
    counts = Counter(smtp.subjects())
    assert len(counts) == 40 and set(counts.values()) == {1}, counts.most_common(3)
