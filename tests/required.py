"""Tests that need a service this machine may lack (PostgreSQL, Chromium, the seeds folder).

On a developer's machine without it such a test is skipped, with the reason printed (``-rs``);
under ``CI=true`` it fails instead, since CI must run everything ``make test`` promises.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def unavailable(reason: str) -> NoReturn:
    """Skip the test for ``reason``, or fail it under CI=true."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: this test must run, not be skipped)", pytrace=False)
    pytest.skip(reason)
