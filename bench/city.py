"""City-scale benchmark: plan expansion, reminder sweep and dispatch, each against a floor.

Run ``python -m bench.city`` (or ``make bench``; ``--help`` for the options). The default
city is 16 districts × 60 units with a 100-task plan each, every unit responsible for every
task: 96,000 checklist items and 960 assignment mails.

How it measures:

* Set-up (not timed): each district's directory and plan go through the real importers
  (``bench/data.py``) into a snapshot database ``s0``. The real expansion's result becomes
  snapshot ``s1``, the starting state of the sweep and the dispatch.
* Every measurement runs in a fresh Python process started on a fresh copy of its
  snapshot (SQLite: a file copy; PostgreSQL: ``CREATE DATABASE … TEMPLATE``), so the real
  code and its floor start from identical database state, and the process's peak RSS
  (``VmHWM``, see ``peak_mb``) is that stage's own peak, not hidden behind another stage's. Imports
  and connecting happen before the clock starts.
* Each stage runs ``--repeat`` times for the real code and for the floor, alternating
  which goes first; the table shows the best time of each, the ratio of the bests and the
  peak memory (the highest of the repeats).
* Mail goes to an aiosmtpd sink in a separate process (``bench/sink.py``).
* After each run (not timed) the worker fingerprints the end state (items, outbox keys,
  recipients, cc, subjects and statuses, reminder log): the floor must reach the same one
  as the real code, or the benchmark stops (bodies differ by design: templates vs. plain
  formatting). What each floor includes is described in ``bench/floors.py``.

Exit status: 0 when every target holds (expansion and sweep within 2× of the floor,
dispatch within 1.5×, peak memory of every real stage under 500 MB), 1 when one is missed,
2 when the benchmark itself fails.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):  # `python bench/city.py`
    sys.path.insert(0, str(ROOT))

from bench.data import ISSUED, TODAY, YEAR  # noqa: E402

STAGES = ("expansion", "sweep", "dispatch")
TARGETS = {"expansion": 2.0, "sweep": 2.0, "dispatch": 1.5}
MEMORY_TARGET_MB = 500.0
RESULT_TAG = "BENCH-RESULT "
MAIL_FROM = "政务公开办 <zwgk@bench.example.gov.cn>"


# --------------------------------------------------------------------------- databases


class SqliteStore:
    """Snapshots as SQLite files in one directory."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory

    def path(self, name: str) -> Path:
        return self.dir / f"{name}.db"

    def url(self, name: str) -> str:
        return f"sqlite:///{self.path(name)}"

    def create(self, name: str) -> None:
        self._remove(name)

    def _remove(self, name: str) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path(name)}{suffix}").unlink(missing_ok=True)

    def copy(self, src: str, dst: str) -> None:
        conn = sqlite3.connect(self.path(src))
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        self._remove(dst)
        shutil.copyfile(self.path(src), self.path(dst))

    def cleanup(self) -> None:
        for name in ("s0", "s1", "run"):
            self._remove(name)


class PostgresStore:
    """Snapshots as databases ``zwgk_bench_<name>`` on the server of the given URL."""

    def __init__(self, url: str) -> None:
        from sqlalchemy.engine import make_url

        self.base = make_url(url)
        self.admin = self.base.set(drivername="postgresql").render_as_string(hide_password=False)

    def db(self, name: str) -> str:
        return f"zwgk_bench_{name}"

    def url(self, name: str) -> str:
        return self.base.set(database=self.db(name)).render_as_string(hide_password=False)

    def _exec(self, *statements: Any) -> None:
        import psycopg

        with psycopg.connect(self.admin, autocommit=True) as conn:
            for st in statements:
                conn.execute(st)

    def _drop(self, name: str) -> Any:
        from psycopg import sql

        return sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(self.db(name))
        )

    def create(self, name: str) -> None:
        from psycopg import sql

        self._exec(
            self._drop(name),
            sql.SQL(
                "CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
            ).format(sql.Identifier(self.db(name))),
        )

    def copy(self, src: str, dst: str) -> None:
        from psycopg import sql

        self._exec(
            self._drop(dst),
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(self.db(dst)), sql.Identifier(self.db(src))
            ),
        )

    def cleanup(self) -> None:
        self._exec(*(self._drop(n) for n in ("s0", "s1", "run")))


# --------------------------------------------------------------------------- worker side


def peak_mb() -> float:
    """This process's own peak RSS in MB: ``VmHWM``, the high-water mark of its address
    space. Not ``ru_maxrss``: Linux keeps the old address space's peak when a process
    execs, and Python's subprocess starts children by ``vfork`` + ``exec``, whose old
    address space is the parent's; a worker started by an orchestrator that had grown to
    400 MB (checking a large shape's end state) reported 397 MB it never used."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def fingerprint(url: str) -> dict[str, Any]:
    """Counts and digests of the end state (everything but mail bodies and timestamps)."""
    from bench.floors import Db

    db = Db(url)
    conn = db.connect()
    try:
        cur = conn.cursor()

        def digest(rows: list[Any]) -> str:
            h = hashlib.sha1()
            for r in sorted(rows):
                h.update(repr(r).encode())
            return h.hexdigest()[:16]

        # Items by their natural key, not their ids: the real code and the floor may insert
        # them in another order.
        items = [
            (o, p, u, st, t, r, str(Db.to_date(d)), s, str(Db.to_date(a)))
            for o, p, u, st, t, r, d, s, a in cur.execute(
                "SELECT obligation, period, unit_id, step, step_title, role, due, status, "
                "assigned_on FROM checklistitem"
            ).fetchall()
        ]
        outbox = [
            (k, rc, json.dumps(Db.to_list(cc)), sub, kind, st, ob, p, u)
            for k, rc, cc, sub, kind, st, ob, p, u in cur.execute(
                "SELECT key, recipient, cc, subject, kind, status, obligation, period, unit_id "
                "FROM outboxmessage"
            ).fetchall()
        ]
        logs = [
            (o, p, u, st, r, str(Db.to_date(on)), bool(s), k)
            for o, p, u, st, r, on, s, k in cur.execute(
                'SELECT i.obligation, i.period, i.unit_id, i.step, l.rung, l."on", l.skipped, '
                "m.key FROM reminderlog l JOIN checklistitem i ON i.id = l.item_id "
                "LEFT JOIN outboxmessage m ON m.id = l.outbox_id"
            ).fetchall()
        ]
        by_kind: dict[str, int] = {}
        for row in outbox:
            k = f"{row[4]}/{row[5]}"
            by_kind[k] = by_kind.get(k, 0) + 1
        (body_bytes,) = cur.execute(
            "SELECT COALESCE(SUM(LENGTH(body_text) + LENGTH(body_html)), 0) FROM outboxmessage"
        ).fetchone()
        return {
            "items": len(items),
            "items_digest": digest(items),
            "outbox": by_kind,
            "outbox_digest": digest(outbox),
            "reminder_log": len(logs),
            "reminder_log_skipped": sum(1 for x in logs if x[6]),
            "reminder_log_digest": digest(logs),
            "body_chars": int(body_bytes),
        }
    finally:
        conn.close()


def worker(stage: str, impl: str, opts: dict[str, Any]) -> dict[str, Any]:
    """Run one stage (``setup`` or a measured one) in this fresh process."""
    from models.directory import districts as list_districts
    from zwgk.config import get_settings
    from zwgk.db import reset_engine, session_scope

    url = os.environ["ZWGK_DATABASE_URL"]
    settings = get_settings()
    if stage == "setup":
        from bench.data import load_city

        names = load_city(
            districts=opts["districts"],
            units=opts["units"],
            tasks=opts["tasks"],
            workdir=Path(opts["workdir"]),
        )
        reset_engine()
        return {"districts": names}

    # Import and connect before the clock starts.
    from bench import floors
    from notifications.outbox_send import dispatch
    from workflows.engine import build_checklist
    from workflows.registry import get_obligation
    from workflows.reminders import sweep
    from zwgk.periods import Cadence, Period

    with session_scope() as s:
        names = list_districts(session=s)
    rss_before = peak_mb()
    extra: dict[str, Any] = {}
    run: Callable[[], None]
    if stage == "expansion" and impl == "ours":
        ob, period = get_obligation("work-plan"), Period(Cadence.yearly, YEAR)

        def run() -> None:
            for d in names:
                with session_scope() as s:
                    build_checklist(
                        session=s, ob=ob, period=period, settings=settings, district=d, today=ISSUED
                    )

    elif stage == "expansion":

        def run() -> None:
            floors.expansion(url, settings, names)

    elif stage == "sweep" and impl == "ours":

        def run() -> None:
            with session_scope() as s:
                sweep(session=s, settings=settings, today=TODAY)

    elif stage == "sweep":

        def run() -> None:
            floors.sweep(url, settings, TODAY)

    elif stage == "dispatch" and impl == "ours":

        def run() -> None:
            report = dispatch(settings=settings)
            extra["sent"] = len(report.sent)
            if not report.ok:
                raise RuntimeError(f"dispatch incomplete: {report.summary()} {report.errors()[:3]}")

    elif stage == "dispatch":

        def run() -> None:
            extra["sent"] = floors.dispatch(url, settings)

    else:
        raise ValueError(f"unknown stage {stage}/{impl}")

    profile = opts.get("profile")
    t0 = time.perf_counter()
    if profile:
        import cProfile

        cProfile.runctx("run()", globals(), {"run": run}, profile)
    else:
        run()
    seconds = time.perf_counter() - t0
    peak = peak_mb()
    reset_engine()
    return {
        "seconds": seconds,
        "peak_mb": peak,
        "rss_before_mb": rss_before,
        **extra,
        "state": fingerprint(url),
    }


# --------------------------------------------------------------------------- orchestrator


class BenchError(RuntimeError):
    pass


def _spawn(stage: str, impl: str, url: str, env: dict[str, str], opts: dict[str, Any]) -> Any:
    cmd = [sys.executable, "-m", "bench.city", "--worker", stage, impl, "--opts", json.dumps(opts)]
    proc = subprocess.run(
        cmd, env={**env, "ZWGK_DATABASE_URL": url}, cwd=ROOT, capture_output=True, text=True
    )
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_TAG):
            return json.loads(line[len(RESULT_TAG) :])
    raise BenchError(
        f"worker {stage}/{impl} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}"
    )


def run(
    *,
    districts: int = 16,
    units: int = 60,
    tasks: int = 100,
    database_url: str | None = None,
    repeat: int = 3,
    profile_dir: Path | None = None,
    stages: tuple[str, ...] = STAGES,
    log: Callable[[str], None] = lambda m: print(m, file=sys.stderr, flush=True),
) -> dict[str, Any]:
    """Set up the city, measure every stage against its floor; returns the results."""
    from bench.sink import Sink

    workdir = Path(tempfile.mkdtemp(prefix="zwgk-bench-"))
    store: SqliteStore | PostgresStore
    if database_url and database_url.startswith("postgresql"):
        store = PostgresStore(database_url)
        backend = "postgresql"
    elif database_url:
        if not database_url.startswith("sqlite:///"):
            raise BenchError(f"unsupported database URL {database_url}")
        store = SqliteStore(Path(database_url.split("///", 1)[1]).parent)
        backend = "sqlite"
    else:
        store = SqliteStore(workdir)
        backend = "sqlite"
    sink = Sink().start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZWGK_")}
    env.update(
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
        ZWGK_VAR_DIR=str(workdir / "var"),
        ZWGK_WEB_SECRET="bench-secret-0123456789abcdef",
        ZWGK_SMTP_HOST="127.0.0.1",
        ZWGK_SMTP_PORT=str(sink.port),
        ZWGK_SMTP_SECURITY="none",
        ZWGK_MAIL_FROM=MAIL_FROM,
    )
    opts: dict[str, Any] = {
        "districts": districts,
        "units": units,
        "tasks": tasks,
        "workdir": str(workdir),
    }
    results: dict[str, Any] = {
        "config": {
            "districts": districts,
            "units": units,
            "tasks": tasks,
            "repeat": repeat,
            "database": backend,
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
        },
        "stages": {},
    }
    try:
        log(f"set-up: {districts} districts × {units} units, {tasks} tasks each ({backend})")
        t0 = time.perf_counter()
        store.create("s0")
        _spawn("setup", "-", store.url("s0"), env, opts)
        if "expansion" not in stages:  # the later stages start from its result
            store.copy("s0", "run")
            _spawn("expansion", "ours", store.url("run"), env, opts)
            store.copy("run", "s1")
        results["setup_seconds"] = time.perf_counter() - t0
        for stage in stages:
            base = "s0" if stage == "expansion" else "s1"
            runs: dict[str, list[dict[str, Any]]] = {"ours": [], "floor": []}
            for trial in range(repeat):
                order = ("ours", "floor") if trial % 2 == 0 else ("floor", "ours")
                for impl in order:
                    store.copy(base, "run")
                    before = sink.received
                    o = dict(opts)
                    if profile_dir is not None and trial == 0:
                        o["profile"] = str(profile_dir / f"{stage}-{impl}.prof")
                    r = _spawn(stage, impl, store.url("run"), env, o)
                    after = sink.received
                    r["mails_received"] = after[0] - before[0]
                    r["mail_bytes"] = after[1] - before[1]
                    runs[impl].append(r)
                    log(
                        f"  {stage:<9} {impl:<5} run {trial + 1}/{repeat}: {r['seconds']:.2f} s, "
                        f"peak {r['peak_mb']:.0f} MB"
                    )
                    if stage == "expansion" and impl == "ours" and trial == 0:
                        store.copy("run", "s1")
            results["stages"][stage] = _summarise(stage, runs)
    finally:
        sink.stop()
        try:
            store.cleanup()
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    peak = max((s["ours_peak_mb"] for s in results["stages"].values()), default=0.0)
    results["peak_mb"] = peak
    results["memory_ok"] = peak < MEMORY_TARGET_MB
    results["ok"] = results["memory_ok"] and all(s["ok"] for s in results["stages"].values())
    return results


def _summarise(stage: str, runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    states = [r["state"] for r in runs["ours"] + runs["floor"]]
    keys = ("items_digest", "outbox_digest", "reminder_log_digest", "items", "reminder_log")
    for st in states[1:]:
        for k in keys + ("outbox",):
            if st[k] != states[0][k]:
                raise BenchError(
                    f"{stage}: runs ended in different states ({k}: {states[0][k]} vs {st[k]})"
                )
    mails = {r["mails_received"] for r in runs["ours"] + runs["floor"]}
    if len(mails) != 1:
        raise BenchError(f"{stage}: the sink received different numbers of mails: {mails}")
    ours = min(r["seconds"] for r in runs["ours"])
    floor = min(r["seconds"] for r in runs["floor"])
    ratio = ours / floor if floor > 0 else float("inf")
    return {
        "ours_seconds": ours,
        "floor_seconds": floor,
        "ours_all": [round(r["seconds"], 3) for r in runs["ours"]],
        "floor_all": [round(r["seconds"], 3) for r in runs["floor"]],
        "ratio": ratio,
        "target": TARGETS[stage],
        "ok": ratio <= TARGETS[stage],
        "ours_peak_mb": max(r["peak_mb"] for r in runs["ours"]),
        "floor_peak_mb": max(r["peak_mb"] for r in runs["floor"]),
        "rss_before_mb": min(r["rss_before_mb"] for r in runs["ours"]),
        "mails_received": mails.pop(),
        "mail_bytes": runs["ours"][0]["mail_bytes"],
        "floor_mail_bytes": runs["floor"][0]["mail_bytes"],
        "state": states[0],
    }


def format_table(results: dict[str, Any]) -> str:
    c = results["config"]
    n_items = c["districts"] * c["units"] * c["tasks"]
    lines = [
        f"zwgk city benchmark: {c['districts']} districts × {c['units']} units × {c['tasks']} tasks "
        f"= {n_items:,} items; {c['database']}; best of {c['repeat']} (alternating order, "
        f"fresh process and database copy per run); {c['cpus']} CPUs, Python {c['python']}",
        "",
        f"{'stage':<10} {'ours (s)':>9} {'floor (s)':>10} {'ratio':>7} {'target':>7}  "
        f"{'result':<6} {'peak MB ours/floor':>19}  what",
    ]
    for stage, s in results["stages"].items():
        st = s["state"]
        if stage == "expansion":
            what = (
                f"{st['items']:,} items, {st['outbox'].get('assignment/pending', 0)} mails queued"
            )
        elif stage == "sweep":
            what = (
                f"{st['reminder_log']:,} log rows ({st['reminder_log_skipped']:,} skipped), "
                f"{sum(v for k, v in st['outbox'].items() if k.split('/')[0] in ('reminder', 'escalation'))} digests, "
                f"{sum(v for k, v in st['outbox'].items() if k.split('/')[0].endswith('-summary'))} summaries"
            )
        else:
            what = f"{s['mails_received']} mails, {s['mail_bytes'] / 1e6:.0f} MB to the sink"
        lines.append(
            f"{stage:<10} {s['ours_seconds']:>9.2f} {s['floor_seconds']:>10.2f} "
            f"{s['ratio']:>6.2f}× {s['target']:>6.1f}×  {'PASS' if s['ok'] else 'FAIL':<6} "
            f"{s['ours_peak_mb']:>9.0f} / {s['floor_peak_mb']:<7.0f}  {what}"
        )
    lines.append(
        f"peak memory (highest real stage, VmHWM): {results['peak_mb']:.0f} MB, target "
        f"< {MEMORY_TARGET_MB:.0f} MB: {'PASS' if results['memory_ok'] else 'FAIL'}"
    )
    lines.append("overall: " + ("PASS" if results["ok"] else "FAIL"))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.city",
        description="City-scale benchmark of plan expansion, reminder sweep and dispatch against plain floors.",
    )
    parser.add_argument("--districts", type=int, default=16)
    parser.add_argument("--units", type=int, default=60, help="units per district")
    parser.add_argument("--tasks", type=int, default=100, help="plan tasks per district")
    parser.add_argument(
        "--database-url",
        help="default: fresh SQLite files in a temporary directory; postgresql+psycopg://USER@HOST:PORT/DB "
        "creates zwgk_bench_* databases on that server",
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per stage and side (best is kept)"
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--profile", type=Path, help="write cProfile files of the first runs here")
    parser.add_argument(
        "--stages",
        default=",".join(STAGES),
        help="comma-separated subset of expansion,sweep,dispatch (default: all)",
    )
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--opts", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        out = worker(args.worker[0], args.worker[1], json.loads(args.opts or "{}"))
        print(RESULT_TAG + json.dumps(out), flush=True)
        return 0
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    try:
        results = run(
            districts=args.districts,
            units=args.units,
            tasks=args.tasks,
            database_url=args.database_url,
            repeat=args.repeat,
            profile_dir=args.profile,
            stages=tuple(x for x in STAGES if x in args.stages.split(",")),
        )
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(results, indent=2, ensure_ascii=False) if args.json else format_table(results))
    return 0 if results["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
