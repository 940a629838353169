"""One large district's work plan, the whole ``zwgk run work-plan`` process against a floor.

Run ``python -m bench.district`` (``--help`` for the options). The default shapes are one
district of 1,000 and of 4,000 units, a 100-task plan addressed to 各单位, with one-off
tasks (one deadline each: 100,000 / 400,000 items) and with 全年 tasks (a progress check
at each quarter end the issue date leaves time for: three, so 300,000 / 1,200,000 items);
one assignment mail per unit.

What is measured, per run, in a fresh process on a fresh copy of the database:

* **ours**: ``zwgk run work-plan --period 2026 --today <issued> --district <d>``, the
  command an administrator types: its checks, the temporary Prefect server, the flow
  (checklist, queued mail, dispatch to an aiosmtpd sink in its own process, progress
  artifacts), the summary line. Wall time from spawning the process to its exit, and its
  own peak RSS (``VmHWM`` of that process, see ``bench.city.peak_mb``; the Prefect server is a child of it and not
  counted, on either side).
* **floor**: the same work done plainly inside one Prefect flow on the same temporary
  server (``deployments.prefect_api``): the expansion floor of ``bench/floors.py``
  (``executemany`` of the items and of the mails, bodies by string formatting), the
  dispatch floor (one ``smtplib`` connection, one ``EmailMessage`` text+HTML multipart per
  unit, one UPDATE and commit per message after the server accepted it), and a progress
  artifact from one ``GROUP BY`` (a Markdown table of the counts and a progress figure).

Set-up (not timed): the district's directory and plan go through the real importers, and a
first start of the temporary Prefect server creates its database, so neither side pays for
that. Sides alternate; the end states (items, outbox keys, recipients, subjects, statuses)
must match or the benchmark stops. Exit status 0 when every target holds (ratio ≤ 1.5,
peak RSS of the smallest one-off shape ≤ 300 MB, of every other shape ≤ 1.2× that figure:
flat in units and in items), 1 when one is missed, 2 when the benchmark itself fails.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):  # `python bench/district.py`
    sys.path.insert(0, str(ROOT))

from bench.city import (  # noqa: E402
    MAIL_FROM,
    PostgresStore,
    SqliteStore,
    fingerprint,
    peak_mb,
)
from bench.data import ISSUED, YEAR, district_names  # noqa: E402

RESULT_TAG = "BENCH-RESULT "
RATIO_TARGET = 1.5
MEMORY_TARGET_MB = 300.0  # 1,000 units, one-off
FLAT_TARGET = 1.2  # a larger shape's peak against the 1,000-unit one of its kind
# A plan issued in late March: its 全年 tasks are checked at the end of Q2, Q3 and Q4.
YEAR_ROUND_ISSUED = date(2026, 3, 25)
KINDS = {"one-off": ISSUED, "year-round": YEAR_ROUND_ISSUED}


# --------------------------------------------------------------------------- worker side


def _setup(opts: dict[str, Any]) -> None:
    from bench.data import load_city
    from deployments.prefect_api import prefect_api
    from zwgk.config import get_settings

    load_city(
        districts=1,
        units=opts["units"],
        tasks=opts["tasks"],
        workdir=Path(opts["workdir"]),
        year_round=opts["kind"] == "year-round",
        issued=KINDS[opts["kind"]],
    )
    with prefect_api(get_settings()):  # Prefect's own database, created before any timing
        pass


def _ours(opts: dict[str, Any]) -> int:
    from zwgk.cli import main

    today = KINDS[opts["kind"]].isoformat()
    argv = ["run", "work-plan", "--period", str(YEAR), "--today", today]
    try:
        main([*argv, "--district", opts["district"]])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def _floor(opts: dict[str, Any]) -> int:
    from prefect import flow

    from bench import floors
    from deployments.prefect_api import prefect_api
    from zwgk.config import get_settings

    settings = get_settings()
    url = os.environ["ZWGK_DATABASE_URL"]
    district = opts["district"]
    today = KINDS[opts["kind"]]

    @flow(name="work-plan-floor")
    def work_plan_floor() -> int:
        floors.expansion(url, settings, [district], today=today)
        sent = floors.dispatch(url, settings)
        floors.progress_artifact(url, district=district, today=today)
        return sent

    with prefect_api(settings):
        sent = work_plan_floor()
    print(f"floor: {sent} mails sent", file=sys.stderr)
    return 0


def worker(role: str, opts: dict[str, Any]) -> dict[str, Any]:
    if role == "setup":
        _setup(opts)
        return {}
    code = _ours(opts) if role == "ours" else _floor(opts)
    return {"exit": code, "peak_mb": peak_mb()}


# --------------------------------------------------------------------------- orchestrator


class BenchError(RuntimeError):
    pass


def _spawn(role: str, url: str, env: dict[str, str], opts: dict[str, Any]) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench.district", "--worker", role, "--opts", json.dumps(opts)]
    t0 = time.perf_counter()
    proc = subprocess.run(
        cmd, env={**env, "ZWGK_DATABASE_URL": url}, cwd=ROOT, capture_output=True, text=True
    )
    seconds = time.perf_counter() - t0
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_TAG):
            out = json.loads(line[len(RESULT_TAG) :])
            if out.get("exit", 0) != 0:
                break
            return {**out, "seconds": seconds, "stdout": proc.stdout[-500:]}
    raise BenchError(
        f"{role} failed (exit {proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    )


def _loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover
        return "?"


def run_shape(
    *,
    units: int,
    tasks: int,
    kind: str,
    store: SqliteStore | PostgresStore,
    env: dict[str, str],
    workdir: Path,
    sink: Any,
    repeat: int,
    log: Any,
) -> dict[str, Any]:
    district = district_names(1)[0]
    opts = {
        "units": units,
        "tasks": tasks,
        "kind": kind,
        "district": district,
        "workdir": str(workdir),
    }
    t0 = time.perf_counter()
    store.create("s0")
    _spawn("setup", store.url("s0"), env, opts)
    log(f"{units} units × {tasks} tasks ({kind}): set-up {time.perf_counter() - t0:.0f} s")
    runs: dict[str, list[dict[str, Any]]] = {"ours": [], "floor": []}
    loads = []
    for trial in range(repeat):
        order = ("ours", "floor") if trial % 2 == 0 else ("floor", "ours")
        for role in order:
            store.copy("s0", "run")
            before = sink.received
            loads.append(_loadavg())
            r = _spawn(role, store.url("run"), env, opts)
            r["mails_received"] = sink.received[0] - before[0]
            r["state"] = fingerprint(store.url("run"))
            runs[role].append(r)
            log(
                f"  {role:<5} run {trial + 1}/{repeat}: {r['seconds']:.1f} s, peak "
                f"{r['peak_mb']:.0f} MB, {r['mails_received']} mails (load before: {loads[-1]})"
            )
    states = [r["state"] for r in runs["ours"] + runs["floor"]]
    for st in states[1:]:
        for k in ("items", "items_digest", "outbox_digest", "outbox"):
            if st[k] != states[0][k]:
                raise BenchError(
                    f"{units}/{kind}: runs ended in different states ({k}: {states[0][k]} vs {st[k]})"
                )
    mails = {r["mails_received"] for r in runs["ours"] + runs["floor"]}
    if len(mails) != 1:
        raise BenchError(f"{units}/{kind}: the sink received different numbers of mails: {mails}")
    ours = min(r["seconds"] for r in runs["ours"])
    floor = min(r["seconds"] for r in runs["floor"])
    return {
        "units": units,
        "tasks": tasks,
        "kind": kind,
        "items": states[0]["items"],
        "mails": mails.pop(),
        "ours_seconds": ours,
        "floor_seconds": floor,
        "ours_all": [round(r["seconds"], 2) for r in runs["ours"]],
        "floor_all": [round(r["seconds"], 2) for r in runs["floor"]],
        "ratio": ours / floor,
        "ours_peak_mb": max(r["peak_mb"] for r in runs["ours"]),
        "floor_peak_mb": max(r["peak_mb"] for r in runs["floor"]),
        "load": loads,
    }


def judge(shapes: list[dict[str, Any]]) -> None:
    """Mark each shape's targets: the ratio, and memory: the smallest one-off shape within
    ``MEMORY_TARGET_MB``, every other shape (more units, or 全年 with three times the items)
    within ``FLAT_TARGET`` × that shape's peak, since memory must not grow with the items."""
    ordered = sorted(shapes, key=lambda s: (s["kind"] != "one-off", s["units"]))
    base = ordered[0] if ordered else None
    for s in shapes:
        if s is base:
            limit = MEMORY_TARGET_MB if s["kind"] == "one-off" else None
        else:
            limit = FLAT_TARGET * base["ours_peak_mb"]  # type: ignore[index]
        s["memory_limit_mb"] = limit
        s["ratio_ok"] = s["ratio"] <= RATIO_TARGET
        s["memory_ok"] = limit is None or s["ours_peak_mb"] <= limit
        s["ok"] = s["ratio_ok"] and s["memory_ok"]


def format_table(results: dict[str, Any]) -> str:
    c = results["config"]
    lines = [
        f"zwgk large-district benchmark: `zwgk run work-plan` (whole process) vs a plain floor "
        f"in one Prefect flow; {c['database']}; best of {c['repeat']}; {c['cpus']} CPUs, "
        f"Python {c['python']}",
        "",
        f"{'shape':<28} {'ours (s)':>9} {'floor (s)':>10} {'ratio':>7}  {'peak MB ours/floor':>18}"
        f"  {'memory target':>14}  result",
    ]
    for s in results["shapes"]:
        shape = f"{s['units']:,} units × {s['tasks']} {s['kind']}"
        limit = s["memory_limit_mb"]
        mem = "—" if limit is None else f"≤ {limit:.0f} MB"
        lines.append(
            f"{shape:<28} {s['ours_seconds']:>9.1f} {s['floor_seconds']:>10.1f} "
            f"{s['ratio']:>6.2f}×  {s['ours_peak_mb']:>8.0f} / {s['floor_peak_mb']:<7.0f}  "
            f"{mem:>14}  {'PASS' if s['ok'] else 'FAIL'} ({s['items']:,} items, {s['mails']:,} mails; "
            f"load {s['load'][0]})"
        )
    lines.append(
        f"ratio target ≤ {RATIO_TARGET}×; overall: " + ("PASS" if results["ok"] else "FAIL")
    )
    return "\n".join(lines)


def run(
    *,
    shapes: list[tuple[int, str]],
    tasks: int = 100,
    database_url: str | None = None,
    postgres: bool = False,
    repeat: int = 1,
    log: Any = lambda m: print(m, file=sys.stderr, flush=True),
) -> dict[str, Any]:
    from bench.sink import Sink

    workdir = Path(tempfile.mkdtemp(prefix="zwgk-bench-district-"))
    pg_server = None
    if postgres and not database_url:
        from tests.pgserver import PostgresServer

        pg_server = PostgresServer().start()
        database_url = pg_server.url("postgres")
    store: SqliteStore | PostgresStore
    if database_url and database_url.startswith("postgresql"):
        store, backend = PostgresStore(database_url), "postgresql"
    else:
        store, backend = SqliteStore(workdir), "sqlite"
    sink = Sink().start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZWGK_", "PREFECT_"))}
    env.update(
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
        ZWGK_VAR_DIR=str(workdir / "var"),
        ZWGK_WEB_SECRET="bench-secret-0123456789abcdef",
        ZWGK_SMTP_HOST="127.0.0.1",
        ZWGK_SMTP_PORT=str(sink.port),
        ZWGK_SMTP_SECURITY="none",
        ZWGK_MAIL_FROM=MAIL_FROM,
    )
    results: dict[str, Any] = {
        "config": {
            "tasks": tasks,
            "repeat": repeat,
            "database": backend,
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
        },
        "shapes": [],
    }
    try:
        for n, kind in shapes:
            results["shapes"].append(
                run_shape(
                    units=n,
                    tasks=tasks,
                    kind=kind,
                    store=store,
                    env=env,
                    workdir=workdir,
                    sink=sink,
                    repeat=repeat,
                    log=log,
                )
            )
    finally:
        sink.stop()
        try:
            store.cleanup()
        finally:
            if pg_server is not None:
                pg_server.stop()
            shutil.rmtree(workdir, ignore_errors=True)
    judge(results["shapes"])
    results["ok"] = all(s["ok"] for s in results["shapes"])
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.district",
        description="One large district's `zwgk run work-plan` (whole process) against a plain floor.",
    )
    parser.add_argument(
        "--shapes",
        default="1000:one-off,4000:one-off,1000:year-round,4000:year-round",
        help="comma-separated UNITS:KIND (KIND one-off or year-round, i.e. 全年)",
    )
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument("--database-url", help="default: SQLite files in a temporary directory")
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="start a throwaway PostgreSQL server (tests/pgserver.py) and run on it",
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs per side (best is kept)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--opts", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        out = worker(args.worker, json.loads(args.opts or "{}"))
        print(RESULT_TAG + json.dumps(out), flush=True)
        return 0
    shapes = []
    for item in filter(None, args.shapes.split(",")):
        n, _, kind = item.partition(":")
        if not n.isdigit() or kind not in KINDS:
            parser.error(f"bad shape {item!r}: UNITS:KIND, KIND one-off or year-round")
        shapes.append((int(n), kind))
    try:
        results = run(
            shapes=shapes,
            tasks=args.tasks,
            database_url=args.database_url,
            postgres=args.postgres,
            repeat=args.repeat,
        )
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(results, indent=2, ensure_ascii=False) if args.json else format_table(results))
    return 0 if results["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
