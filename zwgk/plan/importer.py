"""Import a year's work plan (工作要点任务分解表) into tracked tasks.

``parse_plan`` turns table rows into tasks (due rule + roles) and collects every problem;
``import_plan`` writes them in one transaction — any error, nothing written. Re-importing a
corrected table updates tasks in place (matched by 序号, then by text), never duplicates,
and retires tasks that disappeared, keeping their history.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from zwgk.db import utcnow
from zwgk.errors import UserError
from zwgk.models.plan import Plan, PlanTask
from zwgk.models.unit import Unit, UnitKind
from zwgk.plan.deadlines import DeadlineError, parse_deadline
from zwgk.plan.tables import LABELS, TaskRow, read_table, squash
from zwgk.plan.unitphrases import DirectoryEntry, parse_units
from zwgk.workcal import WorkCalendar


@dataclass
class ParsedTask:
    seq: str
    sub: int
    name: str
    category: str
    content: str
    units_text: str
    deadline_text: str
    due: date | None
    window_start: date | None
    recurrence: str
    lead_units: list[str]
    units: list[str]
    cooperating_units: list[str]
    warnings: list[str] = field(default_factory=list)
    where: str = ""

    def as_json(self) -> dict[str, Any]:
        d = asdict(self)
        for key in ("due", "window_start"):
            d[key] = d[key].isoformat() if d[key] else None
        for key in ("sub", "units_text", "where"):
            d.pop(key)
        return d


@dataclass
class ParseOutcome:
    tasks: list[ParsedTask]
    errors: list[str]
    unknown: dict[str, list[str]]  # unknown unit name -> rows naming it
    warnings: list[str]
    unknown_cells: dict[str, str] = field(default_factory=dict)  # name -> first cell naming it
    suggestions: dict[str, str] = field(default_factory=dict)  # name -> closest directory name


def _entries(units: list[Unit]) -> list[DirectoryEntry]:
    return [DirectoryEntry(u.name, tuple(u.aliases), str(u.kind), tuple(u.groups)) for u in units]


def guess_kind(name: str) -> UnitKind:
    if name.endswith(("街道", "街道办事处")):
        return UnitKind.street
    if name.endswith(("镇", "镇政府", "镇人民政府")):
        return UnitKind.town
    if "园区" in name or name.endswith(("园", "示范区")):
        return UnitKind.park
    return UnitKind.department


def parse_plan(
    rows: list[TaskRow],
    *,
    units: list[Unit],
    year: int,
    issued: date,
    cal: WorkCalendar,
    lenient: bool = False,
) -> ParseOutcome:
    """Parse every row; collect (not raise) deadline errors and unknown unit names."""
    directory = _entries(units)
    tasks: list[ParsedTask] = []
    errors: list[str] = []
    unknown: dict[str, list[str]] = defaultdict(list)
    unknown_cells: dict[str, str] = {}
    suggestions: dict[str, str] = {}
    seen_seq: dict[str, int] = defaultdict(int)

    def add_workdays(start: date, n: int) -> date:
        return cal.add_workdays(start, n).date

    for row in rows:
        label = row.seq or "?"
        warnings: list[str] = []
        sub = seen_seq[row.seq]
        seen_seq[row.seq] += 1
        try:
            spec = parse_deadline(row.deadline, year=year, issued=issued, add_workdays=add_workdays)
            due, window_start, recurrence = spec.due, spec.window_start, spec.recurrence
            warnings += list(spec.warnings)
        except DeadlineError as exc:
            if not lenient:
                errors.append(f"{row.where}（序号 {label}），字段「完成时间」：{exc}")
                continue
            due, window_start, recurrence = None, None, "once"
            warnings.append(f"无法识别的时间节点「{row.deadline}」，请管理员补填完成时间")
        assignment = parse_units(row.units, directory)
        for name in assignment.unknown:
            unknown[name].append(f"{row.where}（序号 {label}）")
            unknown_cells.setdefault(name, row.units)
        for name, suggestion in assignment.suggestions:
            suggestions.setdefault(name, suggestion)
        warnings += list(assignment.warnings)
        name = row.name or row.content[:30]
        category = row.category or row.section
        tasks.append(
            ParsedTask(
                seq=row.seq,
                sub=sub,
                name=name,
                category=category,
                content=row.content,
                units_text=row.units,
                deadline_text=row.deadline,
                due=due,
                window_start=window_start,
                recurrence=recurrence,
                lead_units=list(assignment.lead_units),
                units=list(assignment.units),
                cooperating_units=list(assignment.cooperating_units),
                warnings=warnings,
                where=row.where,
            )
        )
    return ParseOutcome(tasks, errors, dict(unknown), [], unknown_cells, suggestions)


def unknown_unit_error(name: str, outcome: ParseOutcome) -> str:
    """One line for a name the directory lacks: the first row naming it, the column, the cell,
    the closest directory name where there is one (「X」不在名录中，是否为「Y」？), other rows."""
    from zwgk.tabular import clip

    rows = outcome.unknown[name]
    cell = outcome.unknown_cells.get(name, "")
    where = f"{rows[0]}，字段「{LABELS['units']}」："
    if squash(cell) != name:
        where += f"「{clip(' '.join(cell.split()))}」中的"
    line = f"{where}「{clip(name)}」不在名录中"
    suggestion = outcome.suggestions.get(name)
    if suggestion:
        line += f"，是否为「{suggestion}」？"
    if len(rows) > 1:
        line += f"（另见{'、'.join(rows[1:6])}{' 等' if len(rows) > 6 else ''}）"
    return line


@dataclass
class ImportReport:
    plan_id: int | None
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    retired: int = 0
    created_units: list[str] = field(default_factory=list)
    tasks: list[ParsedTask] = field(default_factory=list)

    @property
    def warnings(self) -> list[str]:
        return [f"{t.where}（序号 {t.seq}）：{w}" for t in self.tasks for w in t.warnings]


# Longer than any unit's name: a --create-unknown name this long is a whole sentence.
MAX_NEW_UNIT_NAME = 100

TASK_FIELDS = (
    "name",
    "category",
    "content",
    "units_text",
    "deadline_text",
    "due",
    "window_start",
    "recurrence",
    "lead_units",
    "units",
    "cooperating_units",
    "warnings",
)


def import_plan(
    *,
    session: Session,
    path: Path,
    district: str,
    year: int,
    issued: date,
    cal: WorkCalendar,
    dry_run: bool = False,
    lenient: bool = False,
    create_unknown: bool = False,
    table: int | None = None,
) -> ImportReport:
    """Parse ``path`` and (unless ``dry_run``) store it as the plan of ``district``/``year``.

    Raises one UserError listing every problem; the caller's transaction then writes nothing.
    """
    from zwgk.directory import list_units
    from zwgk.tabular import FIRST_YEAR, LAST_YEAR, clip

    if not FIRST_YEAR <= year <= LAST_YEAR or not FIRST_YEAR <= issued.year <= LAST_YEAR:
        raise UserError(
            f"导入 {path.name}：年度 {year} 或印发日期 {issued} 超出范围"
            f"（应在 {FIRST_YEAR}–{LAST_YEAR} 年之间）"
        )
    rows = read_table(path, table)
    if not rows:
        raise UserError(f"文件 {path}：表头之后没有任何任务")
    units = list_units(session=session, district=district)
    if not units:
        raise UserError(
            f"单位名录中没有「{district}」的单位：请先 zwgk units import FILE --district {district}"
        )
    outcome = parse_plan(rows, units=units, year=year, issued=issued, cal=cal, lenient=lenient)
    errors = list(outcome.errors)
    created_units: list[str] = []
    suggestions = outcome.suggestions
    if outcome.unknown and create_unknown:
        # A name the directory has but the phrase parser cannot reach (an inactive unit, or
        # one whose name the parser rewrites, such as 由…) must not be created twice.
        taken = set(session.exec(select(Unit.name).where(Unit.district == district)))
        clash = [n for n in outcome.unknown if n in taken or len(n) > MAX_NEW_UNIT_NAME]
        if clash:
            raise UserError(
                f"文件 {path} 有误，未导入任何数据：责任单位「{clip(clash[0])}」"
                f"（{'、'.join(outcome.unknown[clash[0]][:5])}）无法自动新增："
                + (
                    "名录中已有同名单位但无法识别，请改写为名录中的名称"
                    if clash[0] in taken
                    else "名称过长"
                )
            )
        for name in outcome.unknown:
            unit = Unit(district=district, name=name, kind=guess_kind(name), email="", contact="")
            created_units.append(name)
            if not dry_run:
                session.add(unit)
            units.append(unit)
        outcome = parse_plan(rows, units=units, year=year, issued=issued, cal=cal, lenient=lenient)
        errors = list(outcome.errors)
        for t in outcome.tasks:
            added = [u for u in t.units + t.cooperating_units if u in created_units]
            if added:
                close = "".join(
                    f"（「{u}」是否为「{suggestions[u]}」？）" for u in added if u in suggestions
                )
                t.warnings.append(
                    f"单位「{'、'.join(added)}」不在名录中，已自动新增（无邮箱），请补全名录{close}"
                )
    elif outcome.unknown:
        errors += [unknown_unit_error(n, outcome) for n in list(outcome.unknown)[:20]]
        if len(outcome.unknown) > 20:
            errors.append(f"另有 {len(outcome.unknown) - 20} 个单位不在名录中")
        errors.append(
            f"以上单位不在{district}的单位名录中：请改正表格中的名称，或先补充名录，"
            "或使用 --create-unknown 自动新增"
        )
    if errors:
        more = f"\n（另有 {len(errors) - 30} 处错误未列出）" if len(errors) > 30 else ""
        raise UserError(f"文件 {path} 有误，未导入任何数据：\n" + "\n".join(errors[:30]) + more)

    report = ImportReport(plan_id=None, tasks=outcome.tasks, created_units=created_units)
    plan = session.exec(select(Plan).where(Plan.district == district, Plan.year == year)).first()
    existing: list[PlanTask] = []
    if plan is not None:
        existing = list(session.exec(select(PlanTask).where(PlanTask.plan_id == plan.id)))
        report.plan_id = plan.id
    if dry_run:
        _match(existing, outcome.tasks, report, apply=False)
        return report
    if plan is None:
        plan = Plan(district=district, year=year, issued=issued, source=path.name)
        session.add(plan)
        session.flush()
    else:
        plan.issued, plan.source, plan.imported_at = issued, path.name, utcnow()
        plan.revision += 1
        session.add(plan)
    report.plan_id = plan.id
    _match(existing, outcome.tasks, report, apply=True, session=session, plan_id=plan.id)  # type: ignore[arg-type]
    return report


def _match(
    existing: list[PlanTask],
    tasks: list[ParsedTask],
    report: ImportReport,
    *,
    apply: bool,
    session: Session | None = None,
    plan_id: int | None = None,
) -> None:
    """Pair new rows with stored tasks: by (序号, sub-row), then by identical text."""
    by_seq = {(t.seq, t.sub): t for t in existing if not t.retired}
    by_seq.update(
        {(t.seq, t.sub): t for t in existing if t.retired and (t.seq, t.sub) not in by_seq}
    )
    by_text = {(t.name, t.content): t for t in existing}
    used: set[int] = set()
    pairs: list[tuple[ParsedTask, PlanTask | None]] = []
    for task in tasks:
        old = by_seq.get((task.seq, task.sub))
        if old is None or old.id in used:
            old = by_text.get((task.name, task.content))
            if old is not None and old.id in used:
                old = None
        if old is not None:
            used.add(old.id)  # type: ignore[arg-type]
        pairs.append((task, old))
    now = utcnow()
    for task, old in pairs:
        values = {f: getattr(task, f) for f in TASK_FIELDS}
        if old is None:
            report.created += 1
            if apply:
                session.add(PlanTask(plan_id=plan_id, seq=task.seq, sub=task.sub, **values))  # type: ignore[union-attr, arg-type]
            continue
        changed = (
            old.retired
            or (old.seq, old.sub) != (task.seq, task.sub)
            or any(getattr(old, f) != v for f, v in values.items())
        )
        if not changed:
            report.unchanged += 1
            continue
        report.updated += 1
        if apply:
            old.seq, old.sub, old.retired, old.retired_at, old.updated_at = (
                task.seq,
                task.sub,
                False,
                None,
                now,
            )
            for f, v in values.items():
                setattr(old, f, v)
            session.add(old)  # type: ignore[union-attr]
    for old in existing:
        if old.id not in used and not old.retired:
            report.retired += 1
            if apply:
                old.retired, old.retired_at = True, now
                session.add(old)  # type: ignore[union-attr]
