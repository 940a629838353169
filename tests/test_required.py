"""A test whose service is missing is skipped with its reason, except under CI=true."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests import seeds
from tests.required import unavailable


def test_missing_service_skips_on_a_developers_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="chromium is not installed"):
        unavailable("chromium is not installed")


def test_missing_service_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="chromium is not installed.*CI=true"):
        unavailable("chromium is not installed")


def test_seeds_are_found_beside_the_repository(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    if not os.environ.get("ZWGK_SEEDS"):
        assert seeds.SEEDS == Path(__file__).resolve().parents[2] / "shared" / "seeds"
    monkeypatch.setattr(seeds, "SEEDS", tmp_path / "shared" / "seeds")
    monkeypatch.setenv("CI", "true")  # documents outside the repository: skipped, even in CI
    with pytest.raises(pytest.skip.Exception, match="seed 000 not found"):
        seeds.seed_text("000")
    (tmp_path / "shared" / "seeds").mkdir(parents=True)
    (tmp_path / "shared" / "seeds" / "000_abc.txt").write_text("2022年 工作要点", encoding="utf-8")
    assert seeds.seed_text("000") == "2022年 工作要点"
