"""``zwgk report``: the progress summary, the 通报, the 考核 and the annual report draft."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from zwgk.cli.common import DistrictOption, open_db, parse_day, warn, write_file
from zwgk.errors import UserError

if TYPE_CHECKING:
    from workflows.documents import Document

app = typer.Typer(help="报表", no_args_is_help=True)


def _emit(doc: Document, out: Path | None) -> None:
    """The one ending of every report command: text to the terminal, or the file written
    whole to ``out`` and said so; then the document's warnings."""
    if out is None:
        text = doc.text
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        write_file(out, doc.data)
        typer.echo(f"已写入 {out}" + (f"（{doc.summary}）" if doc.summary else "") + "。")
    for w in doc.warnings:
        warn(w)


def _need_out(fmt: str, out: Path | None, example: str) -> None:
    if fmt in ("xlsx", "docx") and out is None:
        raise UserError(f"{fmt} 格式请用 --out 指定输出文件，如 --out {example}.{fmt}")


@app.command("progress")
def report_progress(
    period: Annotated[str, typer.Option("--period", help="期间，如 2026-11、2026、2026-Q4")],
    fmt: Annotated[str, typer.Option("--format", help="xlsx、csv 或 md")] = "md",
    obligation: Annotated[str | None, typer.Option("--obligation", help="事项代码")] = None,
    district: Annotated[str | None, typer.Option("--district", help="只统计该区的单位")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="输出文件（xlsx 必填）")] = None,
    today: Annotated[str | None, typer.Option("--today", help="按此日期判断逾期")] = None,
) -> None:
    """各单位完成情况汇总：按时完成、逾期完成、待审核、未到期、已逾期、免办，并列出逾期事项。"""
    from workflows.documents import PROGRESS_FORMATS, progress_document
    from zwgk.clock import today_shanghai

    if fmt not in PROGRESS_FORMATS:
        raise UserError(f"--format「{fmt}」无效，应为 xlsx、csv 或 md")
    _need_out(fmt, out, "进度")
    as_of = parse_day(today, "--today") if today else today_shanghai()
    with open_db() as session:
        doc = progress_document(
            session=session,
            fmt=fmt,
            period=period,
            today=as_of,
            obligation=obligation,
            district=district,
        )
    _emit(doc, out)


@app.command("annual")
def report_annual(
    year: Annotated[int, typer.Option("--year", help="报告年度")],
    unit: Annotated[str | None, typer.Option("--unit", help="单位（单位年报）")] = None,
    district: Annotated[
        str | None, typer.Option("--district", help="区（全区年报，汇总各单位）")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="md、docx 或 json")] = "md",
    out: Annotated[Path | None, typer.Option("--out", help="输出文件（docx 必填）")] = None,
) -> None:
    """生成政府信息公开工作年度报告草稿，并校验表三的勾稽关系。"""
    from workflows.documents import ANNUAL_FORMATS, annual_document

    if fmt not in ANNUAL_FORMATS:
        raise UserError(f"--format「{fmt}」无效，应为 md、docx 或 json")
    if unit and district:
        raise UserError("--unit 和 --district 只能选一个")
    _need_out(fmt, out, "年报草稿")
    with open_db() as session:
        doc = annual_document(session=session, fmt=fmt, year=year, unit=unit, district=district)
    _emit(doc, out)


@app.command("bulletin")
def report_bulletin(
    period: Annotated[str, typer.Option("--period", help="期间：2026-11、2026-Q4 或 2026")],
    district: DistrictOption = None,
    fmt: Annotated[str, typer.Option("--format", help="docx、xlsx 或 md")] = "docx",
    out: Annotated[Path | None, typer.Option("--out", help="输出文件（docx、xlsx 必填）")] = None,
    today: Annotated[
        str | None, typer.Option("--today", help="按此日期判断逾期（落款日期）")
    ] = None,
    rules: Annotated[Path | None, typer.Option("--rules", help="考评标准文件（YAML）")] = None,
) -> None:
    """政务公开重点工作完成情况通报：完成率、按时完成率、各单位排名与得分、逾期未完成事项。"""
    from workflows.documents import BULLETIN_FORMATS, bulletin_document
    from zwgk.clock import today_shanghai
    from zwgk.config import get_settings

    if fmt not in BULLETIN_FORMATS:
        raise UserError(f"--format「{fmt}」无效，应为 docx、xlsx 或 md")
    _need_out(fmt, out, "通报")
    as_of = parse_day(today, "--today") if today else today_shanghai()
    with open_db() as session:
        doc = bulletin_document(
            session=session,
            fmt=fmt,
            period=period,
            today=as_of,
            settings=get_settings(),
            district=district,
            rules=rules,
        )
    _emit(doc, out)


@app.command("assessment")
def report_assessment(
    year: Annotated[int, typer.Option("--year", help="考核年度")],
    district: DistrictOption = None,
    rules: Annotated[Path | None, typer.Option("--rules", help="考评标准文件（YAML）")] = None,
    fmt: Annotated[str, typer.Option("--format", help="md 或 json")] = "md",
    out: Annotated[Path | None, typer.Option("--out", help="输出文件")] = None,
    today: Annotated[str | None, typer.Option("--today", help="按此日期判断逾期")] = None,
) -> None:
    """年度政务公开考核：按考评标准计算各单位得分，列出每一项扣分的原因。"""
    from models.directory import resolve_district
    from workflows.documents import district_rules
    from workflows.registry import item_titles
    from zwgk.clock import today_shanghai
    from zwgk.config import get_settings
    from zwgk.reports.assessment import assessment_markdown, build_assessment

    if fmt not in ("md", "json"):
        raise UserError(f"--format「{fmt}」无效，应为 md 或 json")
    if not 2000 <= year <= 2100:
        raise UserError(f"--year {year} 超出范围（2000–2100）")
    as_of = parse_day(today, "--today") if today else today_shanghai()
    settings = get_settings()
    with open_db() as session:
        d = resolve_district(session=session, district=district, default=settings.default_district)
        a = build_assessment(
            session=session,
            year=year,
            district=d,
            today=as_of,
            rules=district_rules(district=d, settings=settings, rules=rules),
            titles=item_titles(),
        )
    if fmt == "json":
        data = json.dumps(a.as_json(), ensure_ascii=False, indent=2).encode() + b"\n"
    else:
        data = assessment_markdown(a).encode()
    from workflows.documents import Document

    _emit(Document(data, fmt, "", "", summary=f"{len(a.scores)} 个单位"), out)
