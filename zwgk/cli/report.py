"""``zwgk report``: the progress summary, the 通报, the 考核 and the annual report draft."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from zwgk.cli.common import open_db, parse_day, warn, write_file
from zwgk.errors import UserError

app = typer.Typer(help="报表", no_args_is_help=True)


@app.command("progress")
def report_progress(
    period: Annotated[str, typer.Option("--period", help="期间，如 2026-11、2026、2026-Q4")],
    fmt: Annotated[str, typer.Option("--format", help="xlsx、csv 或 md")] = "md",
    obligation: Annotated[str | None, typer.Option("--obligation", help="事项代码")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="输出文件（xlsx 必填）")] = None,
    today: Annotated[str | None, typer.Option("--today", help="按此日期判断逾期")] = None,
) -> None:
    """各单位完成情况汇总：按时完成、逾期完成、未到期、已逾期、免办，并列出逾期事项。"""
    from workflows.progress import item_rows
    from workflows.registry import get_obligation
    from zwgk.clock import today_shanghai
    from zwgk.reports.progress import to_csv, to_markdown, to_xlsx

    if fmt not in ("xlsx", "csv", "md"):
        raise UserError(f"--format「{fmt}」无效，应为 xlsx、csv 或 md")
    if obligation:
        period = str(get_obligation(obligation).parse_period(period))
    as_of = parse_day(today, "--today") if today else today_shanghai()
    with open_db() as session:
        rows = item_rows(session=session, today=as_of, obligation=obligation, period=period)
    from notifications.render import cn_day, cn_period

    if not rows:
        raise UserError(
            f"期间 {cn_period(period) if period else '（全部）'}"
            + (f"、事项 {obligation}" if obligation else "")
            + " 没有任何事项",
            exit_code=1,
        )

    title = f"{cn_period(period)}政务公开事项完成情况（截至{cn_day(as_of)}）"
    if fmt == "md":
        data: bytes = to_markdown(rows, title=title).encode("utf-8")
    elif fmt == "csv":
        data = to_csv(rows)
    else:
        if out is None:
            raise UserError("xlsx 格式请用 --out 指定输出文件，如 --out 进度.xlsx")
        data = to_xlsx(rows)
    if out is None:
        sys.stdout.write(data.decode("utf-8-sig"))
        return
    write_file(out, data)
    typer.echo(f"已写入 {out}（{len(rows)} 个事项）。")


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
    from models.directory import find_unit, resolve_district
    from zwgk.reports.annual import build_report
    from zwgk.reports.annual_docx import to_docx, to_markdown

    if fmt not in ("md", "docx", "json"):
        raise UserError(f"--format「{fmt}」无效，应为 md、docx 或 json")
    if unit and district:
        raise UserError("--unit 和 --district 只能选一个")
    with open_db() as session:
        if unit:
            report = build_report(
                session=session, year=year, unit=find_unit(session=session, name=unit)
            )
        else:
            d = resolve_district(session=session, district=district, default=None)
            report = build_report(session=session, year=year, district=d)
    if fmt == "json":
        data = json.dumps(report.as_json(), ensure_ascii=False, indent=2).encode()
    elif fmt == "md":
        data = to_markdown(report).encode()
    else:
        if out is None:
            raise UserError("docx 格式请用 --out 指定输出文件")
        data = to_docx(report)
    if out is None:
        sys.stdout.write(data.decode() + "\n")
    else:
        write_file(out, data)
        typer.echo(f"已写入 {out}。")
    if report.errors:
        warn(f"勾稽关系校验发现 {len(report.errors)} 处问题：\n" + "\n".join(report.errors[:20]))


def _rules(district: str, rules: Path | None):  # type: ignore[no-untyped-def]
    from workflows.registry import item_titles
    from zwgk.config import get_settings
    from zwgk.reports.assessment import load_rules, rules_for

    path = rules_for(district, get_settings().var_dir, rules)
    return load_rules(path, known=set(item_titles()))


@app.command("bulletin")
def report_bulletin(
    period: Annotated[str, typer.Option("--period", help="期间：2026-11、2026-Q4 或 2026")],
    district: Annotated[str | None, typer.Option("--district", help="区")] = None,
    fmt: Annotated[str, typer.Option("--format", help="docx、xlsx 或 md")] = "docx",
    out: Annotated[Path | None, typer.Option("--out", help="输出文件（docx、xlsx 必填）")] = None,
    today: Annotated[
        str | None, typer.Option("--today", help="按此日期判断逾期（落款日期）")
    ] = None,
    rules: Annotated[Path | None, typer.Option("--rules", help="考评标准文件（YAML）")] = None,
) -> None:
    """政务公开重点工作完成情况通报：完成率、按时完成率、各单位排名与得分、逾期未完成事项。"""
    from models.directory import resolve_district
    from workflows.registry import item_titles
    from zwgk.clock import today_shanghai
    from zwgk.config import get_settings
    from zwgk.reports.bulletin import build_bulletin, parse_period, to_markdown, to_xlsx
    from zwgk.reports.bulletin_docx import to_docx

    if fmt not in ("docx", "xlsx", "md"):
        raise UserError(f"--format「{fmt}」无效，应为 docx、xlsx 或 md")
    if fmt != "md" and out is None:
        raise UserError(f"{fmt} 格式请用 --out 指定输出文件，如 --out 通报.{fmt}")
    p = parse_period(period)
    as_of = parse_day(today, "--today") if today else today_shanghai()
    settings = get_settings()
    with open_db() as session:
        d = resolve_district(session=session, district=district, default=settings.default_district)
        b = build_bulletin(
            session=session,
            period=p,
            district=d,
            today=as_of,
            office=settings.office_for(d),
            rules=_rules(d, rules),
            titles=item_titles(),
        )
    if not b.ranking:
        warn(f"{d}{p.label}没有到期的事项，通报中只有说明。")
    if fmt == "md":
        data = to_markdown(b).encode("utf-8")
    elif fmt == "xlsx":
        data = to_xlsx(b)
    else:
        data = to_docx(b)
    if out is None:
        sys.stdout.write(data.decode("utf-8"))
        return
    write_file(out, data)
    typer.echo(f"已写入 {out}（{b.title}，{len(b.ranking)} 个单位）。")


@app.command("assessment")
def report_assessment(
    year: Annotated[int, typer.Option("--year", help="考核年度")],
    district: Annotated[str | None, typer.Option("--district", help="区")] = None,
    rules: Annotated[Path | None, typer.Option("--rules", help="考评标准文件（YAML）")] = None,
    fmt: Annotated[str, typer.Option("--format", help="md 或 json")] = "md",
    out: Annotated[Path | None, typer.Option("--out", help="输出文件")] = None,
    today: Annotated[str | None, typer.Option("--today", help="按此日期判断逾期")] = None,
) -> None:
    """年度政务公开考核：按考评标准计算各单位得分，列出每一项扣分的原因。"""
    from models.directory import resolve_district
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
            rules=_rules(d, rules),
            titles=item_titles(),
        )
    if fmt == "json":
        data = json.dumps(a.as_json(), ensure_ascii=False, indent=2).encode() + b"\n"
    else:
        data = assessment_markdown(a).encode()
    if out is None:
        sys.stdout.write(data.decode())
        return
    write_file(out, data)
    typer.echo(f"已写入 {out}（{len(a.scores)} 个单位）。")
