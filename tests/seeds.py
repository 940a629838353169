"""The project's seed documents (published 政务公开工作要点 as plain text), found beside the
repository in ``../shared/seeds`` (or where ``ZWGK_SEEDS`` points), never by a machine path.

The seeds are documents kept outside the repository, not a service a test needs: a clone
without them skips these checks with the reason (``-rs`` prints it), under CI too; the
plans transcribed from them are in ``tests/fixtures/plans`` and always tested."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

SEEDS = Path(
    os.environ.get("ZWGK_SEEDS") or Path(__file__).resolve().parents[1].parent / "shared" / "seeds"
)


def seed_text(number: str) -> str:
    """The text of seed ``number`` ("000", "001", …); skipped when the seeds are not there."""
    found = sorted(SEEDS.glob(f"{number}_*.txt")) if SEEDS.is_dir() else []
    if not found:
        pytest.skip(
            f"seed {number} not found in {SEEDS} (../shared/seeds beside the repository, "
            "or ZWGK_SEEDS)"
        )
    return found[0].read_text(encoding="utf-8")


def squeezed(text: str) -> str:
    """Without any whitespace: the PDF extraction breaks cells over lines and blank lines."""
    return re.sub(r"\s+", "", text)
