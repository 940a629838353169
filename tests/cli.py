"""Run the ``zwgk`` command in-process (for tests inside the Prefect harness) or as a
real subprocess (for exit codes and stderr exactly as a user sees them)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass

import pytest


@dataclass
class Result:
    code: int
    out: str
    err: str


def run_inprocess(capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    from zwgk.cli import main

    old = sys.argv
    sys.argv = ["zwgk", *args]
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        sys.argv = old
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def run_subprocess(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> Result:
    proc = subprocess.run(
        [sys.executable, "-m", "zwgk.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)
