"""Import a year's work plan (工作要点任务分解表) into tracked tasks.

``parse_plan`` turns table rows into tasks (due rule + roles) and collects every problem;
``import_plan`` writes them in one transaction — any error, nothing written. Re-importing a
corrected table updates tasks in place (matched by 序号, then by text), never duplicates,
and retires tasks that disappeared, keeping their history.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from models.directory import declared_kinds, list_units
from models.plan import Plan, PlanTask
from models.unit import Unit, UnitKind
from workflows.workcal import WorkCalendar
from zwgk.clock import utcnow
from zwgk.errors import UserError, clip, refused
from zwgk.intake.plan.deadlines import (
    DeadlineError,
    DueSpec,
    find_deadline_phrases,
    is_next_year_duty,
    parse_deadline,
)
from zwgk.intake.plan.tables import LABELS, TaskRow, read_table, squash
from zwgk.intake.plan.unitphrases import UnitAssignment, parse_units
from zwgk.intake.plan.unitresolve import DirectoryEntry
from zwgk.intake.tabular import FIRST_YEAR, LAST_YEAR


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
    overdue_at_issue: bool = False  # 印发时已逾期: due before the plan's issue date

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
    unknown_columns: dict[str, str] = field(default_factory=dict)  # name -> its column's header
    defaulted: int = 0  # rows that took the --default-deadline


def _entries(
    units: list[Unit], kind_groups: dict[str, tuple[str, ...]] | None = None
) -> list[DirectoryEntry]:
    """``kind_groups``: the group phrases of the district's declared kinds (各区属国有企业…),
    which the phrase parser treats as the groups of every unit of the kind."""
    kg = kind_groups or {}
    return [
        DirectoryEntry(
            u.name,
            tuple(u.aliases),
            str(u.kind),
            (*u.groups, *(g for g in kg.get(str(u.kind), ()) if g not in u.groups)),
        )
        for u in units
    ]


def guess_kind(name: str) -> UnitKind:
    if name.endswith(("街道", "街道办事处")):
        return UnitKind.street
    if name.endswith(("镇", "镇政府", "镇人民政府")):
        return UnitKind.town
    if "园区" in name or name.endswith(("园", "示范区")):
        return UnitKind.park
    return UnitKind.department


def _cn_day(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


# Labels that give a separate column's units their role through the phrase parser.
_COLUMN_LABEL = {"lead": "牵头单位：", "units": "", "cooperating": "配合单位："}


def _assign_units(
    row: TaskRow, directory: list[DirectoryEntry]
) -> tuple[UnitAssignment, list[tuple[str, str, str]]]:
    """Roles from the row's unit columns: a 牵头单位 cell leads, a 配合单位 cell cooperates
    (unless its own words say otherwise), a 责任单位 cell is read as it says.  Returns the
    merged assignment and ``(unknown name, column header, cell)`` for each unknown name."""
    cells = {k: getattr(row, k) for k in _COLUMN_LABEL if squash(getattr(row, k))}
    if set(cells) <= {"units"}:  # the usual single column (or none filled in)
        a = parse_units(row.units, directory)
        header = row.headers.get("units", LABELS["units"])
        return a, [(n, header, row.units) for n in a.unknown]
    parsed = {k: parse_units(_COLUMN_LABEL[k] + cell, directory) for k, cell in cells.items()}
    order = {e.name: i for i, e in enumerate(directory)}

    def merged(names: set[str]) -> tuple[str, ...]:
        return tuple(sorted(names, key=lambda n: order.get(n, len(order))))

    leads = {n for a in parsed.values() for n in a.lead_units}
    doers = leads | {n for a in parsed.values() for n in a.units}
    coop = {n for a in parsed.values() for n in a.cooperating_units} - doers
    unknown = [
        (n, row.headers.get(k, LABELS[k]), cells[k]) for k, a in parsed.items() for n in a.unknown
    ]
    warnings = list(dict.fromkeys(w for a in parsed.values() for w in a.warnings))
    return (
        UnitAssignment(
            lead_units=merged(leads),
            units=merged(doers),
            cooperating_units=merged(coop),
            unknown=tuple(dict.fromkeys(n for n, _, _ in unknown)),
            nobody=not doers and all(a.nobody for a in parsed.values()),
            warnings=tuple(warnings),
            suggestions=tuple(dict.fromkeys(s for a in parsed.values() for s in a.suggestions)),
        ),
        unknown,
    )


def _deadline_for(
    row: TaskRow,
    default_deadline: str | None,
    parse: Callable[[str], DueSpec],
) -> tuple[str, DueSpec | None, list[str], bool]:
    """The phrase a row's deadline comes from: its cell; when that is empty, a phrase in its
    own text (with a warning); else the default.  ``(phrase, spec or None, warnings,
    defaulted)``; a None spec means the caller parses ``phrase`` (and reports it)."""
    if squash(row.deadline) or not (default_deadline or squash(row.name + row.content)):
        return row.deadline, None, [], False
    usable = []
    for phrase in find_deadline_phrases(row.name + "\n" + row.content):
        try:
            parse(phrase)
        except DeadlineError:
            continue
        usable.append(phrase)
    if usable:
        phrase = "、".join(usable)
        spec = parse(phrase)
        column = row.headers.get("deadline", "完成时间")
        warning = (
            f"未填写{column}，按任务内容中的「{phrase}」计（{_cn_day(spec.due)}），请管理员核对"
            if spec.due is not None
            else f"未填写{column}，按任务内容中的「{phrase}」计，请管理员核对"
        )
        return phrase, spec, [warning], False
    if default_deadline:
        return default_deadline, None, [], True
    return row.deadline, None, [], False


def parse_plan(
    rows: list[TaskRow],
    *,
    units: list[Unit],
    year: int,
    issued: date,
    cal: WorkCalendar,
    lenient: bool = False,
    default_deadline: str | None = None,
    kind_groups: dict[str, tuple[str, ...]] | None = None,
) -> ParseOutcome:
    """Parse every row; collect (not raise) deadline errors and unknown unit names.

    ``default_deadline`` (``--default-deadline``) is the 完成时间 of every row whose cell is
    empty (every row of a table without the column) and whose text names no deadline."""
    directory = _entries(units, kind_groups)
    tasks: list[ParsedTask] = []
    errors: list[str] = []
    unknown: dict[str, list[str]] = defaultdict(list)
    unknown_cells: dict[str, str] = {}
    suggestions: dict[str, str] = {}
    unknown_columns: dict[str, str] = {}
    defaulted = 0
    seen_seq: dict[str, int] = defaultdict(int)

    def add_workdays(start: date, n: int) -> date:
        return cal.add_workdays(start, n).date

    context = ""  # the task's name: is it next year's duty (the annual report)?

    def parse(phrase: str) -> DueSpec:
        return parse_deadline(
            phrase,
            year=year,
            issued=issued,
            add_workdays=add_workdays,
            next_year_duty=is_next_year_duty(context + "\n" + phrase),
        )

    for row in rows:
        context = row.name
        label = row.seq or "?"
        warnings: list[str] = []
        sub = seen_seq[row.seq]
        seen_seq[row.seq] += 1
        deadline_text, found, warnings, by_default = _deadline_for(row, default_deadline, parse)
        defaulted += by_default
        try:
            spec = found or parse(deadline_text)
            due, window_start, recurrence = spec.due, spec.window_start, spec.recurrence
            warnings += list(spec.warnings)
        except DeadlineError as exc:
            column = row.headers.get("deadline", "完成时间")
            if not lenient:
                errors.append(f"{row.where}（序号 {label}），字段「{column}」：{exc}")
                continue
            due, window_start, recurrence = None, None, "once"
            warnings.append(f"无法识别的时间节点「{deadline_text}」，请管理员补填完成时间")
        assignment, unknown_where = _assign_units(row, directory)
        for name, column, cell in unknown_where:
            if f"{row.where}（序号 {label}）" not in unknown[name]:
                unknown[name].append(f"{row.where}（序号 {label}）")
            unknown_cells.setdefault(name, cell)
            unknown_columns.setdefault(name, column)
        for name, suggestion in assignment.suggestions:
            suggestions.setdefault(name, suggestion)
        warnings += list(assignment.warnings)
        name = row.name or _title_from(row.content)
        category = row.category or row.section
        tasks.append(
            ParsedTask(
                seq=row.seq,
                sub=sub,
                name=name,
                category=category,
                content=row.content,
                units_text=_units_text(row),
                deadline_text=deadline_text,
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
    return ParseOutcome(
        tasks, errors, dict(unknown), [], unknown_cells, suggestions, unknown_columns, defaulted
    )


def _title_from(content: str) -> str:
    """A task name for a table without one: the requirement's first sentence when short
    ("加大惠企政策公开力度。全面梳理…" → 加大惠企政策公开力度), else its first 30 characters."""
    first = re.split(r"[。；;]", content.strip(), maxsplit=1)[0].strip()
    return first if 0 < len(first) <= 30 else content[:30]


def _units_text(row: TaskRow) -> str:
    """The row's unit cells as one text: the 责任单位 cell, or each column labelled by its
    header when the table has a separate 牵头单位/配合单位 column."""
    if not ({"lead", "cooperating"} & set(row.headers)):
        return row.units
    return "；".join(
        f"{row.headers[k]}：{getattr(row, k).strip()}"
        for k in _COLUMN_LABEL
        if k in row.headers and squash(getattr(row, k))
    )


def unknown_unit_error(name: str, outcome: ParseOutcome) -> str:
    """One line for a name the directory lacks: the first row naming it, the column, the cell,
    the closest directory name where there is one (「X」不在名录中，是否为「Y」？), other rows."""
    rows = outcome.unknown[name]
    cell = outcome.unknown_cells.get(name, "")
    column = outcome.unknown_columns.get(name, LABELS["units"])
    where = f"{rows[0]}，字段「{column}」："
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
    defaulted: int = 0  # tasks whose 完成时间 is the --default-deadline

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
    default_deadline: str | None = None,
) -> ImportReport:
    """Parse ``path`` and (unless ``dry_run``) store it as the plan of ``district``/``year``.

    Raises one UserError listing every problem; the caller's transaction then writes nothing.
    """
    if not FIRST_YEAR <= year <= LAST_YEAR or not FIRST_YEAR <= issued.year <= LAST_YEAR:
        raise UserError(
            f"导入 {path.name}：年度 {year} 或印发日期 {issued} 超出范围"
            f"（应在 {FIRST_YEAR}–{LAST_YEAR} 年之间）"
        )
    if default_deadline is not None:
        default_deadline = default_deadline.strip()
        try:
            parse_deadline(
                default_deadline,
                year=year,
                issued=issued,
                add_workdays=lambda start, n: cal.add_workdays(start, n).date,
            )
        except DeadlineError as exc:
            raise UserError(
                f"--default-deadline「{clip(default_deadline)}」：{exc}"
                "（可写 全年、12月底前、本文印发30日内 等）"
            ) from None
    rows = read_table(path, table, need_deadline=not default_deadline)
    if not rows:
        raise UserError(f"文件 {path}：表头之后没有任何任务")
    units = list_units(session=session, district=district)
    if not units:
        raise UserError(
            f"单位名录中没有「{district}」的单位：请先 zwgk units import FILE --district {district}"
        )
    kind_groups = {
        k: tuple(d.groups) for k, d in declared_kinds(session=session, district=district).items()
    }

    def parse() -> ParseOutcome:  # again after --create-unknown adds units
        return parse_plan(
            rows,
            units=units,
            year=year,
            issued=issued,
            cal=cal,
            lenient=lenient,
            default_deadline=default_deadline,
            kind_groups=kind_groups,
        )

    outcome = parse()
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
        outcome = parse()
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
    _mark_overdue_at_issue(outcome.tasks, district=district, year=year, issued=issued)
    if errors:
        raise refused(f"文件 {path} ", errors, shown=30)

    report = ImportReport(
        plan_id=None,
        tasks=outcome.tasks,
        created_units=created_units,
        defaulted=outcome.defaulted,
    )
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


def _mark_overdue_at_issue(
    tasks: list[ParsedTask], *, district: str, year: int, issued: date
) -> None:
    """Mark the tasks due before the issue date (印发时已逾期) and tell the administrator how
    to confirm or move each: its 序号 (序号/行 where one number has several rows)."""
    rows_per_seq: dict[str, int] = defaultdict(int)
    for t in tasks:
        rows_per_seq[t.seq] += 1
    for t in tasks:
        if t.due is None or t.due >= issued:
            continue
        t.overdue_at_issue = True
        ref = t.seq if rows_per_seq[t.seq] == 1 else f"{t.seq}/{t.sub + 1}"
        hint = f"（zwgk plan move-due {ref} YYYY-MM-DD --district {district} --year {year}）"
        t.warnings = [w + hint if "印发时已逾期" in w else w for w in t.warnings]


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
            if old.deadline_text != task.deadline_text:
                old.moved_due = None  # the table's new 时间节点 replaces the administrator's date
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
