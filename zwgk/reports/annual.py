"""The annual report's tables (年度报告表格), computed from recorded data and checked.

Table 三 (收到和处理政府信息公开申请情况) comes from the application register:

* 本年新收 — received in year Y;
* 上年结转 — received before Y and not answered before Y;
* each outcome row — answered in Y with that outcome;
* 结转下年度 — received by the end of Y and not answered by then.

So 本年新收 + 上年结转 = 办理结果总计 + 结转下年度 holds for register data by construction;
figures typed in by hand (``AnnualFigure``) replace computed cells and are checked the same
way (勾稽关系), cell by cell. Tables 二 and 四 come from hand-entered figures.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from models.annual import AnnualFigure, Application
from models.unit import Unit
from zwgk.errors import UserError, refused

APPLICANT_TYPES = ("自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他")
COLUMNS = (*APPLICANT_TYPES, "总计")
ORGANISATIONS = APPLICANT_TYPES[1:]  # 法人或其他组织

# Table 三's outcome rows in statutory order: (大类, [小类…]); no sub-rows → the 大类 alone.
OUTCOME_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("予以公开", ()),
    ("部分公开", ()),
    (
        "不予公开",
        (
            "属于国家秘密",
            "其他法律行政法规禁止公开",
            "危及“三安全一稳定”",
            "保护第三方合法权益",
            "属于三类内部事务信息",
            "属于四类过程性信息",
            "属于行政执法案卷",
            "属于行政查询事项",
        ),
    ),
    (
        "无法提供",
        ("本机关不掌握相关政府信息", "没有现成信息需要另行制作", "补正后申请内容仍不明确"),
    ),
    (
        "不予处理",
        (
            "信访举报投诉类申请",
            "重复申请",
            "要求提供公开出版物",
            "无正当理由大量反复申请",
            "要求行政机关确认或重新出具已获取信息",
        ),
    ),
    (
        "其他处理",
        (
            "申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
            "申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
            "其他",
        ),
    ),
)
OUTCOMES: tuple[str, ...] = tuple(
    f"{g}/{s}" if s else g for g, subs in OUTCOME_GROUPS for s in (subs or ("",))
)
GROUP_NUMERALS = ("一", "二", "三", "四", "五", "六", "七")
NEW, CARRIED_IN, TOTAL, CARRIED_OUT = "本年新收", "上年结转", "办理结果总计", "结转下年度"
TABLE3_ROWS = (NEW, CARRIED_IN, *OUTCOMES, TOTAL, CARRIED_OUT)

# Table 二: (row, columns). Table 四: groups × results.
TABLE2: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("规章", ("本年制发件数", "本年废止件数", "现行有效件数")),
    ("行政规范性文件", ("本年制发件数", "本年废止件数", "现行有效件数")),
    ("行政许可", ("本年处理决定数量",)),
    ("行政处罚", ("本年处理决定数量",)),
    ("行政强制", ("本年处理决定数量",)),
    ("行政事业性收费", ("本年收费金额（万元）",)),
)
TABLE4_GROUPS = ("行政复议", "未经复议直接起诉", "复议后起诉")
TABLE4_RESULTS = ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计")

Table = dict[str, dict[str, float]]


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


# --------------------------------------------------------------------------- register import


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
    from zwgk.intake.tabular import parse_date

    return parse_date(value)


REGISTER_COLUMNS = ("unit", "received", "applicant_type", "outcome", "replied")


def _register_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

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
        from zwgk.intake.tabular import check_text

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
    from zwgk.intake.tabular import read_csv_rows

    return read_csv_rows(path, REGISTER_COLUMNS, ("ref", "extended"))


def parse_register(*, session: Session, path: Path, district: str | None) -> list[RegisterRow]:
    """Validate every row; one UserError lists every problem (file, row, field)."""
    from zwgk.intake.directory import find_unit
    from zwgk.intake.tabular import clip

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
        if not problems and received is not None:
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
    from models.checklist import ItemStatus
    from workflows.events import EVENT_KINDS, record_event, reply_clock
    from workflows.workcal import load_calendar
    from zwgk.clock import today_shanghai

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
        from datetime import datetime, time
        from zoneinfo import ZoneInfo

        item.completed_at = datetime.combine(app.replied, time(12), ZoneInfo("Asia/Shanghai"))
        item.on_time = app.replied <= item.due
        item.note = f"已于 {app.replied} 答复：{app.outcome}"
        item.completed_by = "依申请公开登记"
    session.add(item)
    session.flush()
    app.item_id = item.id
    session.add(app)


# --------------------------------------------------------------------------- tables


def empty_table3() -> Table:
    return {row: {c: 0 for c in COLUMNS} for row in TABLE3_ROWS}


def table3_from_register(apps: list[Application], year: int) -> Table:
    start, end = date(year, 1, 1), date(year, 12, 31)
    t = empty_table3()
    for a in apps:
        col_ = a.applicant_type
        if start <= a.received <= end:
            t[NEW][col_] += 1
        elif a.received < start and (a.replied is None or a.replied >= start):
            t[CARRIED_IN][col_] += 1
        if a.replied is not None and start <= a.replied <= end and a.outcome and a.received <= end:
            t[a.outcome][col_] += 1
        if a.received <= end and (a.replied is None or a.replied > end):
            t[CARRIED_OUT][col_] += 1
    fill_totals(t)
    return t


def fill_totals(t: Table) -> None:
    """总计 column and 办理结果总计 row, computed (before hand figures are laid over)."""
    for row in t:
        t[row]["总计"] = sum(t[row][c] for c in APPLICANT_TYPES)
    for c in COLUMNS:
        t[TOTAL][c] = sum(t[o][c] for o in OUTCOMES)


def check_table3(t: Table) -> list[str]:
    """Every 勾稽关系 violation, cell by cell (Chinese, user-facing)."""
    errors = []
    for row in TABLE3_ROWS:
        s = sum(t[row][c] for c in APPLICANT_TYPES)
        if t[row]["总计"] != s:
            errors.append(
                f"表三「{row}」行「总计」列为 {_n(t[row]['总计'])}，但各类申请人之和为 {_n(s)}"
            )
    for c in COLUMNS:
        s = sum(t[o][c] for o in OUTCOMES)
        if t[TOTAL][c] != s:
            errors.append(
                f"表三「{TOTAL}」行「{c}」列为 {_n(t[TOTAL][c])}，但各项办理结果之和为 {_n(s)}"
            )
        left, right = t[NEW][c] + t[CARRIED_IN][c], t[TOTAL][c] + t[CARRIED_OUT][c]
        if left != right:
            errors.append(
                f"表三「{c}」列：本年新收 {_n(t[NEW][c])} + 上年结转 {_n(t[CARRIED_IN][c])} = {_n(left)}，"
                f"不等于 办理结果总计 {_n(t[TOTAL][c])} + 结转下年度 {_n(t[CARRIED_OUT][c])} = {_n(right)}"
            )
    return errors


def check_carry_over(t: Table, previous_carried_out: dict[str, float]) -> list[str]:
    """This year's 上年结转 must equal last year's 结转下年度, column by column."""
    return [
        f"表三「上年结转」行「{c}」列为 {_n(t[CARRIED_IN][c])}，但上一年度「结转下年度」为 {_n(previous_carried_out.get(c, 0))}"
        for c in COLUMNS
        if t[CARRIED_IN][c] != previous_carried_out.get(c, 0)
    ]


def check_table4(t: Table) -> list[str]:
    errors = []
    for g in TABLE4_GROUPS:
        s = sum(t[g][r] for r in TABLE4_RESULTS[:-1])
        if t[g]["总计"] != s:
            errors.append(
                f"表四「{g}」的「总计」为 {_n(t[g]['总计'])}，但维持、纠正、其他、尚未审结之和为 {_n(s)}"
            )
    return errors


def _n(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


@dataclass
class AnnualReport:
    year: int
    scope: str  # unit or district name
    units: list[str]
    table2: Table
    table3: Table
    table4: Table
    errors: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        def clean(t: Table) -> dict[str, dict[str, float]]:
            return {
                r: {c: (int(v) if float(v).is_integer() else v) for c, v in cols.items()}
                for r, cols in t.items()
            }

        return {
            "year": self.year,
            "scope": self.scope,
            "units": self.units,
            "table2": clean(self.table2),
            "table3": clean(self.table3),
            "table4": clean(self.table4),
            "consistency": {"ok": not self.errors, "errors": self.errors},
        }


def _figures(session: Session, unit_ids: list[int], year: int) -> dict[tuple[int, str], Table]:
    out: dict[tuple[int, str], Table] = defaultdict(lambda: defaultdict(dict))
    for f in session.exec(
        select(AnnualFigure).where(
            col(AnnualFigure.unit_id).in_(unit_ids), AnnualFigure.year == year
        )
    ):
        out[(f.unit_id, f.table)][f.row][f.col] = f.value
    return out


def unit_tables(session: Session, unit: Unit, year: int) -> tuple[Table, Table, Table, bool]:
    """(table2, table3, table4, whether the year has any table-3 data) for one unit."""
    apps = list(session.exec(select(Application).where(Application.unit_id == unit.id)))
    t3 = table3_from_register(apps, year)
    figs = _figures(session, [unit.id], year)  # type: ignore[list-item]
    hand3 = figs.get((unit.id, "table3"), {})  # type: ignore[call-overload]
    for row, cols in hand3.items():
        for c, v in cols.items():
            t3[row][c] = v
    t2 = {
        r: {c: figs.get((unit.id, "table2"), {}).get(r, {}).get(c, 0) for c in cols}
        for r, cols in TABLE2
    }  # type: ignore[call-overload]
    t4: Table = {g: {r: 0 for r in TABLE4_RESULTS} for g in TABLE4_GROUPS}
    for g, cols in figs.get((unit.id, "table4"), {}).items():  # type: ignore[call-overload]
        for r, v in cols.items():
            t4[g][r] = v
    hand4 = figs.get((unit.id, "table4"), {})  # type: ignore[call-overload]
    for g in TABLE4_GROUPS:
        if "总计" not in hand4.get(g, {}):
            t4[g]["总计"] = sum(t4[g][r] for r in TABLE4_RESULTS[:-1])
    has_data = bool(hand3) or any(a.received <= date(year, 12, 31) for a in apps)
    return t2, t3, t4, has_data


def _add(into: Table, t: Table) -> None:
    for r, cols in t.items():
        for c, v in cols.items():
            into.setdefault(r, {}).setdefault(c, 0)
            into[r][c] += v


def build_report(
    *, session: Session, year: int, unit: Unit | None = None, district: str | None = None
) -> AnnualReport:
    """The tables of one unit's report, or a district's (the sum of its units), checked."""
    from zwgk.intake.directory import list_units

    if unit is not None:
        units, scope = [unit], unit.name
    else:
        units = list_units(session=session, district=district)
        if not units:
            raise UserError(f"单位名录中没有「{district}」的单位")
        scope = district or units[0].district
    t2: Table = {}
    t3: Table = {}
    t4: Table = {}
    prev3: Table = {}
    prev_known = False
    errors: list[str] = []
    for u in units:
        a2, a3, a4, _ = unit_tables(session, u, year)
        _add(t2, a2)
        _add(t3, a3)
        _add(t4, a4)
        # Last year's 结转下年度 is compared only where last year has data at all.
        _, p3, _, p_known = unit_tables(session, u, year - 1)
        _add(prev3, p3)
        prev_known = prev_known or p_known
        if unit is None:  # a district report names the unit each problem comes from
            problems = check_table3(a3) + check_table4(a4)
            problems += check_carry_over(a3, p3[CARRIED_OUT]) if p_known else []
            errors += [f"{u.name}：{e}" for e in problems]
    if unit is not None:
        errors += check_table3(t3) + check_table4(t4)
        errors += check_carry_over(t3, prev3[CARRIED_OUT]) if prev_known else []
    return AnnualReport(year, scope, [u.name for u in units], t2, t3, t4, errors)


# --------------------------------------------------------------------------- hand figures


def set_figure(
    *, session: Session, unit: Unit, year: int, table: str, row: str, col_: str, value: float
) -> None:
    valid = _valid_cells()
    if (table, row, col_) not in valid:
        raise UserError(
            f"没有这个单元格：{table}「{row}」行「{col_}」列。可用的表：table2、table3、table4；"
            "行列名称与年报表格一致，如 table3 本年新收 自然人"
        )
    f = session.exec(
        select(AnnualFigure).where(
            AnnualFigure.unit_id == unit.id,
            AnnualFigure.year == year,
            AnnualFigure.table == table,
            AnnualFigure.row == row,
            AnnualFigure.col == col_,
        )
    ).first()
    if f is None:
        f = AnnualFigure(unit_id=unit.id, year=year, table=table, row=row, col=col_, value=value)  # type: ignore[arg-type]
    f.value = value
    session.add(f)


def _valid_cells() -> set[tuple[str, str, str]]:
    cells = {("table2", r, c) for r, cols in TABLE2 for c in cols}
    cells |= {("table3", r, c) for r in TABLE3_ROWS for c in COLUMNS}
    cells |= {("table4", g, r) for g in TABLE4_GROUPS for r in TABLE4_RESULTS}
    return cells


FIGURE_COLUMNS = ("unit", "year", "table", "row", "column", "value")
# No count or amount (万元) in a district's annual report comes near this; larger is a typo.
MAX_FIGURE = 1e12


def import_figures(*, session: Session, path: Path, district: str | None) -> int:
    """Hand figures from a CSV (unit,year,table,row,column,value); all or nothing."""
    from zwgk.intake.directory import find_unit
    from zwgk.intake.tabular import FIRST_YEAR, LAST_YEAR, clip, read_csv_rows

    rows = read_csv_rows(path, FIGURE_COLUMNS)
    valid = _valid_cells()
    errors: list[str] = []
    clean = []
    for rowno, r in rows:
        where = f"文件 {path} 第 {rowno} 行"
        try:
            unit = find_unit(session=session, name=r["unit"], district=district)
        except UserError as exc:
            errors.append(f"{where}，字段「unit」：{exc.message}")
            continue
        if not re.fullmatch(r"[0-9]{4}", r["year"]):
            errors.append(f"{where}，字段「year」：「{clip(r['year'])}」不是年份（应为四位数字）")
            continue
        year = int(r["year"])
        if not FIRST_YEAR <= year <= LAST_YEAR:
            errors.append(
                f"{where}，字段「year」：{year} 年超出范围（应在 {FIRST_YEAR}–{LAST_YEAR} 年之间）"
            )
            continue
        if (r["table"], r["row"], r["column"]) not in valid:
            errors.append(
                f"{where}，字段「row」/「column」：{clip(r['table'])}「{clip(r['row'])}」行"
                f"「{clip(r['column'])}」列不存在"
            )
            continue
        try:
            value = float(r["value"].replace(",", ""))
            if not (math.isfinite(value) and 0 <= value <= MAX_FIGURE):
                raise ValueError
        except ValueError:
            errors.append(f"{where}，字段「value」：「{clip(r['value'])}」不是合理的非负数")
            continue
        clean.append((unit, year, r["table"], r["row"], r["column"], value))
    if not rows:
        errors.append(f"文件 {path}：表头之后没有任何数据")
    if errors:
        raise refused("年报数据", errors)
    for unit, year, table, row, col_, value in clean:
        set_figure(
            session=session, unit=unit, year=year, table=table, row=row, col_=col_, value=value
        )
    return len(clean)
