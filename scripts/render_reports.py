"""Render the README's pictures of the 通报 and the annual report (docs/*.png).

A throw-away database under a temporary folder: the sample directory (长宁区, 50 units),
monthly filings of 2024 and of October–November 2026 completed on time, late, left
overdue or waived (a fixed random seed, so the pictures are the same each time), one filing
sent back in 2024, and 长宁区's published 2024 tables (tests/fixtures/annual, typed as
printed). Then ``zwgk report bulletin --period 2026-11`` and ``zwgk report annual --year 2024``
as DOCX, LibreOffice to PDF, pdftoppm to PNG.

    .venv/bin/python scripts/render_reports.py [--out docs]

Needs LibreOffice (``soffice``) and poppler-utils (``pdftoppm``); fonts-noto-cjk for Chinese.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The pages the README shows: the 通报 whole; the report's first page, table 三 (pages 3–4)
# and sections 四–六 (pages 4–5).
PAGES = {"bulletin": (1, 2, 3), "annual-report": (1, 3, 4, 5)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--dpi", type=int, default=70)
    args = parser.parse_args()
    for tool in ("soffice", "pdftoppm"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found: apt-get install libreoffice-writer-nogui poppler-utils")
    work = Path(tempfile.mkdtemp(prefix="zwgk-render-"))
    os.environ.update(
        ZWGK_VAR_DIR=str(work / "var"),
        ZWGK_OFFICE_FULL_NAME="上海市长宁区人民政府办公室",
        ZWGK_OFFICE_NAME="长宁区人民政府办公室",
        ZWGK_OFFICE_CONTACT="王静",
        ZWGK_OFFICE_PHONE="021-22051478",
    )
    sys.path.insert(0, str(ROOT))
    docs = build(work)
    _font_aliases(work)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, docx in docs.items():
        subprocess.run(
            ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(work), str(docx)],
            check=True,
            capture_output=True,
            # LibreOffice's profile and the font aliases under work/, not the user's.
            env={**os.environ, "HOME": str(work), "XDG_CONFIG_HOME": str(work / ".config")},
        )
        pdf = work / (docx.stem + ".pdf")
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                str(args.dpi),
                str(pdf),
                str(work / name),
            ],
            check=True,
        )
        for page in sorted(work.glob(f"{name}-*.png")):
            n = int(page.stem.rsplit("-", 1)[1])
            if n not in PAGES[name]:
                continue
            target = args.out / f"{name}-{n}.png"
            shutil.copy(page, target)
            print(target.relative_to(ROOT) if target.is_relative_to(ROOT) else target)
    shutil.rmtree(work)


# The documents name the fonts an office has (方正小标宋简体, 仿宋_GB2312, 黑体); where they
# are missing, render with the closest free ones: Noto Serif CJK for 宋/仿宋/楷, Sans for 黑体.
SERIF = ("方正小标宋简体", "仿宋_GB2312", "仿宋", "宋体", "楷体_GB2312", "楷体")
SANS = ("黑体",)


def _font_aliases(work: Path) -> None:
    """A fontconfig file for LibreOffice's run only (its HOME is ``work``)."""
    rules = "".join(
        f'<alias binding="same"><family>{name}</family><prefer><family>{target}</family>'
        "</prefer></alias>"
        for names, target in ((SERIF, "Noto Serif CJK SC"), (SANS, "Noto Sans CJK SC"))
        for name in names
    )
    conf = work / ".config" / "fontconfig" / "fonts.conf"
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text(
        f'<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>{rules}</fontconfig>',
        encoding="utf-8",
    )


def build(work: Path) -> dict[str, Path]:
    from sqlmodel import select

    from models.checklist import ChecklistItem
    from models.unit import Unit
    from workflows.documents import annual_document, bulletin_document
    from workflows.engine import build_checklist
    from workflows.items import complete, waive
    from workflows.registry import get_obligation
    from workflows.submissions import send_back, submit
    from zwgk.clock import frozen
    from zwgk.config import get_settings
    from zwgk.db import session_scope
    from zwgk.intake.directory import import_units
    from zwgk.intake.figures import import_figures
    from zwgk.migrations import init_db

    init_db()
    settings = get_settings()
    with session_scope() as s:
        import_units(session=s, path=ROOT / "zwgk/data/sample_units.csv", district="长宁区")
    ob = get_obligation("monthly-filing")
    periods = [f"2024-{m:02d}" for m in range(1, 13)] + ["2026-10", "2026-11"]
    with session_scope() as s:
        for p in periods:
            build_checklist(
                session=s,
                ob=ob,
                period=ob.parse_period(p),
                settings=settings,
                district="长宁区",
                today=date(2024, 1, 1) if p < "2025" else date(2026, 10, 1),
            )
    rng = random.Random(20261201)
    with session_scope() as s:
        rows = s.exec(select(ChecklistItem, Unit.name).join(Unit)).all()
        items = [(i.id, i.due, i.period, name) for i, name in rows]
    # A few units are behind most months; the rest mostly on time.
    slow = {"区教育局", "区卫生健康委", "新泾镇", "区房管局", "程家桥街道"}
    returned = None
    for item_id, due, period, name in items:
        fate = rng.random() * (0.6 if name in slow else 1.0)
        at = datetime.combine(due, datetime.min.time(), tzinfo=UTC) + timedelta(hours=2)
        with session_scope() as s:
            if fate < 0.08:
                continue  # left overdue
            if fate < 0.16:
                complete(
                    session=s,
                    item_id=item_id,
                    evidence="https://www.shcn.gov.cn/",
                    now=at + timedelta(days=rng.randint(2, 9)),
                )
            elif fate < 0.2:
                waive(session=s, item_id=item_id, reason="本月无新增公文", by="王静")
            elif returned is None and period == "2024-06":
                returned = (item_id, name)
            else:
                complete(
                    session=s,
                    item_id=item_id,
                    evidence="https://www.shcn.gov.cn/",
                    now=at - timedelta(days=rng.randint(1, 12)),
                )
    if returned is not None:
        with frozen(datetime(2024, 6, 20, 2, tzinfo=UTC)):
            with session_scope() as s:
                unit_id = s.get(ChecklistItem, returned[0]).unit_id  # type: ignore[union-attr]
                submit(
                    session=s,
                    item_id=returned[0],
                    unit_id=unit_id,
                    evidence="https://www.shcn.gov.cn/",
                )
            with session_scope() as s:
                send_back(
                    session=s,
                    item_id=returned[0],
                    by="wangjing",
                    reason="备案目录缺少文号和成文日期，请补充后重新报送",
                    settings=settings,
                )
            with session_scope() as s:
                submit(
                    session=s,
                    item_id=returned[0],
                    unit_id=unit_id,
                    evidence="https://www.shcn.gov.cn/",
                )
    with session_scope() as s:
        import_figures(
            session=s,
            path=ROOT / "tests/fixtures/annual/changning_2024_as_printed.csv",
            district="长宁区",
        )
    out: dict[str, Path] = {}
    with frozen(datetime(2026, 12, 1, 2, tzinfo=UTC)), session_scope() as s:
        doc = bulletin_document(
            session=s,
            fmt="docx",
            period="2026-11",
            today=date(2026, 12, 1),
            settings=settings,
            district="长宁区",
        )
        out["bulletin"] = work / "bulletin.docx"
        out["bulletin"].write_bytes(doc.data)
    with frozen(datetime(2025, 1, 10, 2, tzinfo=UTC)), session_scope() as s:
        doc = annual_document(session=s, fmt="docx", year=2024, district="长宁区")
        out["annual-report"] = work / "annual-report.docx"
        out["annual-report"].write_bytes(doc.data)
    return out


if __name__ == "__main__":
    main()
