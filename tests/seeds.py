"""The project's seed documents (published 政务公开工作要点 as plain text), found beside the
repository in ``../shared/seeds`` as every checkout and CI has them, never by a machine path."""

from __future__ import annotations

import re
from pathlib import Path

from tests.required import unavailable

SEEDS = Path(__file__).resolve().parents[1].parent / "shared" / "seeds"


def seed_text(number: str) -> str:
    """The text of seed ``number`` ("000", "001", …); skipped (failed under CI=true) when the
    seeds folder is not there."""
    found = sorted(SEEDS.glob(f"{number}_*.txt")) if SEEDS.is_dir() else []
    if not found:
        unavailable(f"seed {number} not found in {SEEDS} (../shared/seeds beside the repository)")
    return found[0].read_text(encoding="utf-8")


def squeezed(text: str) -> str:
    """Without any whitespace: the PDF extraction breaks cells over lines and blank lines."""
    return re.sub(r"\s+", "", text)
