"""The application register (依申请公开登记) in: each request an ``Application`` row with its
statutory reply deadline as an event item (application-reply).

A register is a CSV or XLSX (unit, received, applicant_type, outcome, replied; optional ref,
extended); every problem is named by file, row and field and nothing is imported until all
rows are clean. Outcomes are table 三's categories (``models.annual.OUTCOMES``).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from models.annual import APPLICANT_TYPES, OUTCOMES, Application
from models.checklist import ItemStatus
from models.directory import find_unit
from models.unit import Unit
from workflows.events import EVENT_KINDS, record_event, reply_clock
from workflows.workcal import load_calendar
from zwgk.clock import today_shanghai
from zwgk.errors import UserError, clip, refused
from zwgk.intake.tabular import check_text, parse_date, read_csv_rows


def outcome_label(text: str) -> str | None:
    """Normalise an outcome as written in a register to its table-三 row, or None."""
    t = "".join(text.split()).replace("（", "(").replace("）", ")")
    if not t:
        return None
    for label in OUTCOMES:
        if t == label:
            return label
    # "不予公开-属于国家秘密", "不予公开：属于国家秘密", or the 小类 alone when unique.
    for sep in ("-", "：", ":", "／", "\\"):
        t = t.replace(sep, "/")
    if t in OUTCOMES:
        return t
    matches = [label for label in OUTCOMES if "/" in label and label.split("/", 1)[1] == t]
    return matches[0] if len(matches) == 1 else None


@dataclass
class RegisterRow:
    rowno: int
    unit: Unit
    ref: str
    received: date
    applicant_type: str
    outcome: str | None
    replied: date | None
    extended: bool


def _date(value: str) -> date | None:
    """A register date (see :func:`zwgk.intake.tabular.parse_date`); ValueError with the reason."""
    return parse_date(value)


REGISTER_COLUMNS = ("unit", "received", "applicant_type", "outcome", "replied")


def _register_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook  # heavy; only for .xlsx registers

        try:
            ws = load_workbook(path, data_only=True).worksheets[0]
        except Exception as exc:  # noqa: BLE001
            raise UserError(f"无法读取 Excel 文件 {path}：{exc}") from None
        values = list(ws.iter_rows(values_only=True))
        if not values:
            raise UserError(f"文件 {path} 是空的")
        header = [str(h or "").strip().lower() for h in values[0]]
        missing = [c for c in REGISTER_COLUMNS if c not in header]
        if missing:
            raise UserError(f"文件 {path} 第 1 行（表头）：缺少列「{'、'.join(missing)}」")
        out = []
        for i, row in enumerate(values[1:], start=2):
            cells = {}
            for name, v in zip(header, row, strict=False):
                if not name:
                    continue
                if hasattr(v, "date") and callable(v.date):
                    v = v.date()
                cells[name] = "" if v is None else str(v).strip()
                problem = check_text(path, i, name, cells[name])
                if problem:
                    raise UserError(problem)
            if any(cells.values()):
                # A short row (fewer cells than the header) leaves the rest empty.
                out.append((i, {name: cells.get(name, "") for name in header if name}))
        return out
    if path.suffix.lower() in (".xls",):
        raise UserError(f"文件 {path} 是旧版 .xls 格式：请另存为 .xlsx 或 .csv 后再导入")
    return read_csv_rows(path, REGISTER_COLUMNS, ("ref", "extended"))


def parse_register(*, session: Session, path: Path, district: str | None) -> list[RegisterRow]:
    """Validate every row; one UserError lists every problem (file, row, field)."""
    rows = _register_rows(path)
    errors: list[str] = []
    clean: list[RegisterRow] = []
    units: dict[str, Unit] = {}
    for rowno, r in rows:
        where = f"文件 {path} 第 {rowno} 行"
        problems: list[str] = []
        unit = units.get(r["unit"])
        if unit is None:
            try:
                unit = find_unit(session=session, name=r["unit"], district=district)
                units[r["unit"]] = unit
            except UserError as exc:
                problems.append(f"字段「unit」：{exc.message}")
        received = replied = None
        for fld in ("received", "replied"):
            try:
                value = _date(r.get(fld, ""))
            except ValueError as exc:
                problems.append(f"字段「{fld}」：{exc}")
                continue
            if fld == "received":
                received = value
                if value is None:
                    problems.append("字段「received」为空")
            else:
                replied = value
        applicant = r["applicant_type"].strip()
        if applicant in ("法人或其他组织", "法人"):
            applicant = "其他"
        if applicant not in APPLICANT_TYPES:
            problems.append(
                f"字段「applicant_type」：未知的申请人类型「{clip(r['applicant_type'])}」，应为 {'、'.join(APPLICANT_TYPES)}"
            )
        outcome = None
        if r["outcome"].strip():
            outcome = outcome_label(r["outcome"])
            if outcome is None:
                problems.append(
                    f"字段「outcome」：未知的办理结果「{clip(r['outcome'])}」（应为年报表三的类别，如 予以公开、不予公开/属于国家秘密）"
                )
        if received and replied and replied < received:
            problems.append(f"字段「replied」：答复日期 {replied} 早于收到日期 {received}")
        if replied and not r["outcome"].strip():
            problems.append("字段「outcome」：已有答复日期但办理结果为空")
        if r["outcome"].strip() and not replied:
            problems.append("字段「replied」：已有办理结果但答复日期为空")
        extended = r.get("extended", "").strip().lower() in ("1", "yes", "true", "是", "延期", "y")
        for p in problems:
            errors.append(f"{where}，{p}")
        if not problems and unit is not None and received is not None:
            clean.append(
                RegisterRow(
                    rowno,
                    unit,
                    r.get("ref", "").strip(),
                    received,
                    applicant,
                    outcome,  # type: ignore[arg-type]
                    replied,
                    extended,
                )
            )
    if not rows:
        errors.append(f"文件 {path}：表头之后没有任何申请")
    if errors:
        raise refused("依申请公开登记", errors)
    return clean


def _fingerprints(rows: list[RegisterRow]) -> list[str]:
    """Stable identity per row: the unit's ref, or the row's content plus its occurrence."""
    seen: Counter[str] = Counter()
    out = []
    for r in rows:
        if r.ref:
            base = f"ref|{r.unit.id}|{r.ref}"
        else:
            base = f"row|{r.unit.id}|{r.received}|{r.applicant_type}"
        seen[base] += 1
        out.append(hashlib.sha1(f"{base}|{seen[base]}".encode()).hexdigest())
    return out


@dataclass
class RegisterImport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def import_register(
    *, session: Session, path: Path, district: str | None, settings: Any, today: date | None = None
) -> RegisterImport:
    """Add or update applications; each gets its reply-deadline item (application-reply)."""
    rows = parse_register(session=session, path=path, district=district)
    result = RegisterImport()
    for row, fp in zip(rows, _fingerprints(rows), strict=True):
        app = session.exec(select(Application).where(Application.fingerprint == fp)).first()
        values = dict(
            unit_id=row.unit.id,
            ref=row.ref,
            received=row.received,
            applicant_type=row.applicant_type,
            outcome=row.outcome,
            replied=row.replied,
            extended=row.extended,
        )
        if app is None:
            app = Application(fingerprint=fp, **values)  # type: ignore[arg-type]
            session.add(app)
            result.created += 1
        elif any(getattr(app, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(app, k, v)
            session.add(app)
            result.updated += 1
        else:
            result.unchanged += 1
            continue
        track_reply_deadline(
            session=session, app=app, unit=row.unit, settings=settings, today=today
        )
    return result


def track_reply_deadline(
    *, session: Session, app: Application, unit: Unit, settings: Any, today: date | None = None
) -> None:
    """The statutory reply deadline as an event item: 20 working days, +20 when extended."""
    kind = EVENT_KINDS["application-reply"]
    ref = app.ref or f"{app.received} {app.applicant_type}申请 #{app.fingerprint[:6]}"
    item, _created = record_event(
        session=session,
        kind=kind,
        unit=unit,
        notify=app.replied is None,  # no notice for a request already answered
        on=app.received,
        ref=ref,
        settings=settings,
        today=today or today_shanghai(),
    )
    # A correction date or consultation days given with `zwgk event update` stay applied.
    due, item.due_basis = reply_clock(
        cal=load_calendar(session),
        kind=kind,
        received=app.received,
        corrected_on=item.clock_from,
        excluded_workdays=item.excluded_workdays,
        extended=app.extended,
    )
    item.due, item.provisional = due.date, due.provisional
    if app.replied is not None and item.status != ItemStatus.done:
        item.status = ItemStatus.done
        item.completed_at = datetime.combine(app.replied, time(12), ZoneInfo("Asia/Shanghai"))
        item.on_time = app.replied <= item.due
        item.note = f"已于 {app.replied} 答复：{app.outcome}"
        item.completed_by = "依申请公开登记"
    session.add(item)
    session.flush()
    app.item_id = item.id
    session.add(app)
