"""Scale-out recipe, run for real: Prefect server on PostgreSQL, a process work pool, two
workers, the obligation deployments from ``prefect.yaml``, the app database on PostgreSQL.

Everything is a real process on loopback, started the way the README tells an operator to
start it (``prefect server start``, ``zwgk db upgrade``, ``zwgk units import``, ``prefect
work-pool create``, ``prefect deploy --all``, ``prefect worker start``, ``prefect deployment
run``); only the checks read the Prefect REST API, the app database and the test SMTP server
directly. ``ZWGK_SCALEOUT_KEEP=1`` keeps the processes' logs in ``/tmp/zwgk-scaleout-*``.

Which worker executed a flow run: a worker that wins the flow run (the server accepts its
``Pending`` proposal, so no other worker can) labels the run ``prefect.worker.name`` before
it starts the process (``BaseWorker._give_worker_labels_to_flow_run``, called from
``_submit_run_and_capture_errors`` after ``_propose_pending_state``). The worker also logs
``Worker '<name>' submitting flow run '<id>'`` to the flow run's logs when it picks it up,
and ``Aborted submission of flow run '<id>'`` when the server refuses it (another worker
was first); the checks cross-check the label against those log lines.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.factories import write_units_csv
from tests.pgserver import PostgresServer, PostgresUnavailable
from tests.required import unavailable
from tests.smtpd import SMTPServer, free_port

pytestmark = [pytest.mark.scaleout, pytest.mark.timeout(400)]

ROOT = Path(__file__).parents[1]
BIN = Path(sys.executable).parent
DISTRICT = "测试区"
WORKERS = ("worker-1", "worker-2")
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}

# (deployment, period) of every flow run the test submits; the first one twice, back to back.
RUNS: list[tuple[str, str]] = [
    ("monthly-filing", "2026-11"),
    ("monthly-filing", "2026-11"),
    ("decision-catalogue", "2026"),
    ("quarterly-progress", "2026-Q4"),
    ("open-month", "2026"),
    ("monthly-filing", "2026-12"),
]


# --------------------------------------------------------------------------- processes


@dataclass
class Proc:
    """A long-running child process in its own session, its output in a log file."""

    name: str
    popen: subprocess.Popen  # type: ignore[type-arg]
    log: Path

    def tail(self, lines: int = 40) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM to the process group (a worker's flow-run children too), then SIGKILL."""
        if self.popen.poll() is not None:
            return
        try:
            os.killpg(self.popen.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.popen.wait(timeout=20)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.popen.wait(timeout=10)


@dataclass
class Recipe:
    """The running set-up and what the test needs to reach it."""

    tmp: Path
    base_env: dict[str, str]
    worker_env: dict[str, str]
    api: str
    app_url: str
    smtp: SMTPServer
    procs: list[Proc] = field(default_factory=list)
    t0: float = field(default_factory=time.monotonic)

    def note(self, what: str) -> None:
        """Progress with the time since the set-up began (shown with ``pytest -s``)."""
        print(f"[scale-out {time.monotonic() - self.t0:5.1f} s] {what}", flush=True)

    def start(self, name: str, args: list[str], env: dict[str, str], cwd: Path) -> Proc:
        log = self.tmp / f"{name}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen(
                args,
                env=env,
                cwd=cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        proc = Proc(name, popen, log)
        self.procs.append(proc)
        return proc

    def proc(self, name: str) -> Proc:
        return next(p for p in self.procs if p.name == name)

    def logs(self) -> str:
        """The tail of every process's log, for failure messages."""
        return "\n".join(f"----- {p.name} ({p.log}) -----\n{p.tail()}" for p in self.procs)

    def run(
        self, args: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> str:
        """Run a command to completion; fail with its output (and the services' logs)."""
        proc = subprocess.run(
            args,
            env=env or self.base_env,
            cwd=cwd or self.tmp,
            capture_output=True,
            text=True,
            timeout=180,
            stdin=subprocess.DEVNULL,
        )
        if proc.returncode != 0:
            pytest.fail(
                f"{' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}\n"
                + self.logs()
            )
        return proc.stdout

    # ---- Prefect REST API (read-only checks) --------------------------------------

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.api + path, timeout=10) as resp:
            return json.load(resp)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        req = urllib.request.Request(
            self.api + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.load(resp)

    def flow_run_logs(self, flow_run_id: str) -> list[str]:
        """Every log line of a flow run, page by page (the API returns at most 200 at once)."""
        messages: list[str] = []
        while True:
            page = self.post(
                "/logs/filter",
                {
                    "logs": {"flow_run_id": {"any_": [flow_run_id]}},
                    "sort": "TIMESTAMP_ASC",
                    "offset": len(messages),
                    "limit": 200,
                },
            )
            messages += [entry["message"] for entry in page]
            if len(page) < 200:
                return messages


def wait_until(what: str, check, recipe: Recipe | None, timeout: float, *procs: Proc):  # type: ignore[no-untyped-def]
    """Poll ``check()`` until it returns a truthy value; fail naming ``what`` and the logs."""
    deadline = time.monotonic() + timeout
    while True:
        for p in procs:
            if p.popen.poll() is not None:
                pytest.fail(
                    f"{p.name} exited ({p.popen.returncode}) while waiting for {what}\n"
                    + (recipe.logs() if recipe else p.tail())
                )
        try:
            value = check()
        except (OSError, urllib.error.URLError, ValueError):
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(
                f"timed out after {timeout:.0f} s waiting for {what}\n"
                + (recipe.logs() if recipe else "")
            )
        time.sleep(0.5)


def clean_env() -> dict[str, str]:
    """This environment without any ZWGK_/PREFECT_ setting (the user's profile included)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("ZWGK_", "PREFECT_"))}


# --------------------------------------------------------------------------- the set-up


@pytest.fixture(scope="module")
def recipe() -> Iterator[Recipe]:
    with ExitStack() as stack:
        try:
            pg = PostgresServer().start()
        except PostgresUnavailable as exc:
            unavailable(str(exc))
        stack.callback(pg.stop)
        prefect_db = pg.create_database("prefect").replace("+psycopg", "+asyncpg")
        app_db = pg.create_database("zwgk")

        smtp = SMTPServer().start()
        stack.callback(smtp.stop)

        tmp = Path(tempfile.mkdtemp(prefix="zwgk-scaleout-"))
        if not os.environ.get("ZWGK_SCALEOUT_KEEP"):  # keep the logs to look at
            stack.callback(shutil.rmtree, tmp, True)
        port = free_port()
        api = f"http://127.0.0.1:{port}/api"
        base_env = {
            **clean_env(),
            "PREFECT_HOME": str(tmp / "prefect-home"),
            "PREFECT_API_URL": api,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_LOGGING_LEVEL": "INFO",
            "PREFECT_CLI_COLORS": "false",
            "PREFECT_CLI_WRAP_LINES": "false",
            "COLUMNS": "200",
        }
        server_env = {
            **base_env,
            "PREFECT_API_DATABASE_CONNECTION_URL": prefect_db,
            # Runs come from the test, not from the cron schedules.
            "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false",
            # A run that waits for its deployment's concurrency slot retries after 2 s (30 s).
            "PREFECT_SERVER_DEPLOYMENTS_CONCURRENCY_SLOT_WAIT_SECONDS": "2",
            "PREFECT_UI_ENABLED": "false",
        }
        worker_env = {
            **base_env,
            "PREFECT_WORKER_QUERY_SECONDS": "1",
            "ZWGK_HOME": str(ROOT),
            "ZWGK_DATABASE_URL": app_db,
            "ZWGK_SMTP_HOST": "127.0.0.1",
            "ZWGK_SMTP_PORT": str(smtp.port),
            "ZWGK_SMTP_SECURITY": "none",
            "ZWGK_SMTP_TIMEOUT": "10",
            "ZWGK_MAIL_FROM": "政务公开办 <zwgk@test.example.gov.cn>",
            # Every worker host signs unit links with the same key.
            "ZWGK_WEB_SECRET": "scale-out-test-secret-not-for-production",
        }
        r = Recipe(tmp, base_env, worker_env, api, app_db, smtp)
        stack.callback(lambda: [p.stop() for p in reversed(r.procs)])

        server = r.start(
            "prefect-server",
            [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            server_env,
            tmp,
        )
        # While the server migrates its database: the app database, tables and directory.
        app_env = {**worker_env, "ZWGK_VAR_DIR": str(tmp / "admin-var")}
        r.run([str(BIN / "zwgk"), "db", "upgrade"], env=app_env)
        units = write_units_csv(tmp / "units.csv")
        r.run(
            [str(BIN / "zwgk"), "units", "import", str(units), "--district", DISTRICT],
            env=app_env,
        )
        r.note("app database ready")
        wait_until(
            "the Prefect server's /api/health",
            lambda: r.get("/health") is True,
            r,
            120,
            server,
        )
        r.note("Prefect server healthy")

        r.run([str(BIN / "prefect"), "work-pool", "create", "zwgk", "--type", "process"])
        # From the project folder, like an operator; no ZWGK_* setting is needed to deploy.
        r.run([str(BIN / "prefect"), "--no-prompt", "deploy", "--all"], cwd=ROOT)
        r.note("work pool created, deployments registered")

        workers = []
        for name in WORKERS:
            # Each worker as on its own host: own working folder and var/.
            home = tmp / name
            home.mkdir()
            env = {**worker_env, "ZWGK_VAR_DIR": str(home / "var")}
            workers.append(
                r.start(
                    name,
                    # --limit: at most 2 flow runs at once per worker, so a burst of runs
                    # is shared out rather than all taken by whichever worker polls first.
                    [
                        str(BIN / "prefect"),
                        "worker",
                        "start",
                        "--pool",
                        "zwgk",
                        "--name",
                        name,
                        "--limit",
                        "2",
                    ],
                    env,
                    home,
                )
            )
        wait_until(
            "both workers to register with the work pool",
            lambda: (
                set(WORKERS) <= {w["name"] for w in r.post("/work_pools/zwgk/workers/filter", {})}
            ),
            r,
            90,
            server,
            *workers,
        )
        r.note("workers polling")
        yield r


# --------------------------------------------------------------------------- the test


def submit(recipe: Recipe, deployment: str, period: str) -> str:
    out = recipe.run(
        [
            str(BIN / "prefect"),
            "deployment",
            "run",
            f"{deployment}/{deployment}",
            "-p",
            f"period={period}",
        ]
    )
    match = re.search(r"UUID:\s*([0-9a-f-]{36})", out)
    if not match:
        pytest.fail(f"no flow run id in the output of prefect deployment run:\n{out}")
    return match.group(1)


def complete_logs(recipe: Recipe, flow_run_id: str) -> list[str] | None:
    """The flow run's log lines once the engine's and the checklist task's have arrived."""
    messages = recipe.flow_run_logs(flow_run_id)
    began = any(m.startswith("Beginning flow run") for m in messages)
    built = any("items created" in m for m in messages)
    return messages if began and built else None


def test_runs_spread_across_two_workers_without_double_work(recipe: Recipe) -> None:
    started = time.monotonic()
    ids: list[str | None] = [None] * len(RUNS)
    errors: list[BaseException] = []

    def submit_into(indexes: list[int]) -> None:
        try:
            for i in indexes:
                ids[i] = submit(recipe, *RUNS[i])
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test thread
            errors.append(exc)

    # The duplicated submission back to back in one thread, the others alongside.
    threads = [threading.Thread(target=submit_into, args=([0, 1],))] + [
        threading.Thread(target=submit_into, args=([i],)) for i in range(2, len(RUNS))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    run_ids = [i for i in ids if i]
    assert len(run_ids) == len(RUNS)

    def all_final() -> list[dict[str, Any]] | None:
        runs = [recipe.get(f"/flow_runs/{i}") for i in run_ids]
        return runs if all(r["state_type"] in FINAL for r in runs) else None

    recipe.note(f"{len(run_ids)} flow runs submitted")
    runs = wait_until("every flow run to finish", all_final, recipe, 240, *recipe.procs)
    recipe.note("all flow runs final")
    elapsed = time.monotonic() - started

    summary = "\n".join(
        f"{r['name']}: {r['state_type']} {r['state_name']} worker={r['labels'].get('prefect.worker.name')}"
        for r in runs
    )
    assert all(r["state_type"] == "COMPLETED" for r in runs), summary + "\n" + recipe.logs()

    # Which worker executed each run, and that each ran exactly once.
    worker_logs = {name: recipe.proc(name).log.read_text(errors="replace") for name in WORKERS}
    by_worker: Counter[str] = Counter()
    for run in runs:
        name = f"{run['name']} ({run['id']})"
        worker = run["labels"].get("prefect.worker.name")
        assert worker in WORKERS, f"{name} has no worker label: {run['labels']}"
        by_worker[worker] += 1
        # Every time a worker picks the run up it logs so; every pick-up the server refused
        # (another worker was first, or the deployment's concurrency slot was taken) it logs
        # an abort. Exactly one pick-up, the labelled worker's, went through.
        for other, text in worker_logs.items():
            picked = text.count(f"Worker '{other}' submitting flow run '{run['id']}'")
            aborted = text.count(f"Aborted submission of flow run '{run['id']}'")
            assert picked - aborted == (1 if other == worker else 0), (
                f"{name}: {other} picked it up {picked} times, aborted {aborted} times"
            )
        # Log lines reach the API in batches, possibly after the final state.
        messages = wait_until(
            f"the logs of {name}", lambda run=run: complete_logs(recipe, run["id"]), recipe, 30
        )
        assert sum("submitted to infrastructure" in m for m in messages) == 1, messages
        assert sum(m.startswith("Beginning flow run") for m in messages) == 1, messages
        states = recipe.get(f"/flow_run_states/?flow_run_id={run['id']}")
        # One hand-over to a worker (Pending; the worker then marks it Submitting) and one
        # execution (Running).
        history = [s["name"] for s in sorted(states, key=lambda s: s["timestamp"])]
        assert history.count("Pending") == 1 and history.count("Running") == 1, f"{name}: {history}"
        assert run["run_count"] == 1, f"{name} ran {run['run_count']} times"
    assert set(by_worker) == set(WORKERS), f"runs by worker: {dict(by_worker)}\n{summary}"

    # The duplicated submission: both ran the whole flow, the second created and sent nothing.
    first, second = (" ".join(recipe.flow_run_logs(run_ids[i])) for i in (0, 1))
    created = [
        re.search(r"(\d+) items created, (\d+) already existed, (\d+) assignment mails queued", t)
        for t in (first, second)
    ]
    assert all(created), (first, second)
    numbers = sorted((int(m[1]), int(m[2]), int(m[3])) for m in created)  # type: ignore[index]
    assert numbers[0][0] == 0 and numbers[0][2] == 0, numbers
    assert numbers[1][0] > 0 and numbers[1][2] > 0, numbers

    check_app_database(recipe)
    print(f"\n{summary}\nruns by worker: {dict(by_worker)}; all finished in {elapsed:.0f} s")


def check_app_database(recipe: Recipe) -> None:
    """One item per unit × step and one sent assignment mail per unit, per obligation period."""
    from sqlalchemy import func
    from sqlmodel import Session, select

    from models.checklist import ChecklistItem
    from models.directory import list_units
    from models.outbox import OutboxMessage
    from workflows.engine import plan
    from workflows.registry import get_obligation
    from workflows.workcal import load_calendar
    from zwgk.config import Settings
    from zwgk.db import make_engine

    engine = make_engine(recipe.app_url)
    try:
        with Session(engine) as session:
            units = list_units(session=session, district=DISTRICT)
            cal = load_calendar(session)
            expected_mail: Counter[tuple[str, str]] = Counter()
            for slug, period in sorted(set(RUNS)):
                ob = get_obligation(slug)
                p = ob.parse_period(period)
                planned = plan(ob, p, units, cal, Settings(), session)
                assert planned, f"{slug} {period} plans nothing"
                items = session.exec(
                    select(ChecklistItem.unit_id, ChecklistItem.step, func.count())
                    .where(ChecklistItem.obligation == slug)
                    .where(ChecklistItem.period == str(p))
                    .group_by(ChecklistItem.unit_id, ChecklistItem.step)
                ).all()
                assert {(u, s): n for u, s, n in items} == {
                    (x.unit.id, x.step): 1 for x in planned
                }, f"{slug} {period}"
                mails = session.exec(
                    select(
                        OutboxMessage.unit_id,
                        OutboxMessage.status,
                        OutboxMessage.recipient,
                        OutboxMessage.subject,
                    )
                    .where(OutboxMessage.obligation == slug)
                    .where(OutboxMessage.period == str(p))
                    .where(OutboxMessage.kind == "assignment")
                ).all()
                unit_ids = {x.unit.id for x in planned}
                assert sorted(u for u, _, _, _ in mails) == sorted(unit_ids), f"{slug} {period}"
                assert {str(s) for _, s, _, _ in mails} == {"sent"}, mails
                for _, _, recipient, subject in mails:
                    expected_mail[(recipient, subject)] += 1
    finally:
        engine.dispose()

    received = Counter((m.rcpt_tos[0], m.subject) for m in recipe.smtp.messages)
    assert received == expected_mail, (
        f"mail received vs. expected:\n{sorted(received.items())}\n{sorted(expected_mail.items())}"
    )
