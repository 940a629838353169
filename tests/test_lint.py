"""The static checks `make lint` runs see across the packages: mypy types what one package
imports from another (a planted type error is caught), and the layers contract fails on an
import running back up (`lint-imports`)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("zwgk", "models", "workflows", "notifications", "deployments")
BIN = Path(sys.executable).parent


def test_mypy_types_models_where_another_package_uses_them(tmp_path: Path) -> None:
    planted = tmp_path / "planted.py"
    planted.write_text(
        "from models.unit import Unit\n"
        "from workflows.items import derived_status\n\n\n"
        "def unit_number(unit: Unit) -> int:\n"
        "    return unit.name\n\n\n"
        "def status_code(unit: Unit) -> int:\n"
        "    return derived_status(unit, None)\n",
        encoding="utf-8",
    )
    # From the project root, with its configuration (mypy finds the packages from here, as
    # `make lint` does); the cache is the one `make lint` warms.
    r = subprocess.run(
        [str(BIN / "mypy"), "--config-file", "pyproject.toml", str(planted)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    # A field of a model, typed through models/ (not Any): the return is a str.
    assert 'planted.py:6: error: Incompatible return value type (got "str", expected "int")' in out
    # A workflows function called with a Unit where it wants a ChecklistItem.
    assert (
        'planted.py:10: error: Argument 1 to "derived_status" has incompatible type "Unit"' in out
    )


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "lint-imports"), "--config", "pyproject.toml", "--no-cache"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_layers_contract_is_kept() -> None:
    r = _lint_imports(ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 broken" in r.stdout


def _copy_tree(to: Path) -> None:
    shutil.copy(ROOT / "pyproject.toml", to / "pyproject.toml")
    for pkg in PACKAGES:
        shutil.copytree(ROOT / pkg, to / pkg, ignore=shutil.ignore_patterns("__pycache__"))


def test_an_import_running_back_up_breaks_the_build(tmp_path: Path) -> None:
    # lint-imports puts its working directory first on sys.path: it reads this copy.
    _copy_tree(tmp_path)
    checklist = tmp_path / "models" / "checklist.py"
    checklist.write_text(
        checklist.read_text(encoding="utf-8") + "\n\ndef _titles():\n"
        "    from workflows.registry import item_titles  # models importing workflows\n\n"
        "    return item_titles()\n",
        encoding="utf-8",
    )
    r = _lint_imports(tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "One-way layers" in r.stdout and "BROKEN" in r.stdout
    assert "models.checklist -> workflows.registry" in r.stdout


def test_features_that_must_not_know_each_other_stay_apart(tmp_path: Path) -> None:
    # Downward, so the layers allow it; the independence contract does not.
    _copy_tree(tmp_path)
    tabular = tmp_path / "zwgk" / "intake" / "tabular.py"
    tabular.write_text(
        tabular.read_text(encoding="utf-8")
        + "\nfrom zwgk.reports.progress import ItemRow  # noqa\n",
        encoding="utf-8",
    )
    r = _lint_imports(tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "One-way layers" in r.stdout and "KEPT" in r.stdout
    assert "do not know each other BROKEN" in r.stdout
    assert "zwgk.intake.tabular -> zwgk.reports.progress" in r.stdout
