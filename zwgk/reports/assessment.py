"""考核: each unit's 政务公开 score from its checklist items, by scoring rules kept as data.

The rules (``zwgk/data/assessment_rules.yaml`` by default, a district's own file otherwise)
say the full score, what one late item (逾期完成) and one item past due and not done
(逾期未完成) cost, a cap per obligation and a floor. The counts come from one ``GROUP BY``
of the items due in the period, with the progress report's rules for on time and overdue
(:meth:`UnitProgress.tally`), never from loading every item.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import and_, distinct, func
from sqlmodel import Session, col, select

from models.checklist import ChecklistItem, ItemStatus
from models.submission import ReviewState, Submission
from models.unit import Unit
from notifications.render import cn_day, cn_period
from zwgk.clock import as_utc
from zwgk.errors import UserError
from zwgk.reports.progress import UnitProgress

DEFAULT_RULES = Path(__file__).parents[1] / "data" / "assessment_rules.yaml"
RULE_KEYS = ("late", "missing", "cap")
TOP_KEYS = ("full_score", "floor", *RULE_KEYS, "obligations")


# --- Rules -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ObligationRule:
    """What one late and one missing item of an obligation cost, and the cap per unit."""

    late: float
    missing: float
    cap: float | None


@dataclass(frozen=True)
class Rules:
    """A district's 考评标准 as data."""

    full_score: float = 100.0
    floor: float = 0.0
    default: ObligationRule = ObligationRule(late=0.5, missing=1.0, cap=5.0)
    obligations: Mapping[str, ObligationRule] = field(default_factory=dict)
    source: str = "默认考评标准"

    def for_obligation(self, obligation: str) -> ObligationRule:
        return self.obligations.get(obligation, self.default)


def _number(node: yaml.Node, where: str, *, allow_null: bool = False) -> float | None:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.ScalarNode):
        if allow_null and node.tag.endswith(":null"):
            return None
        if node.tag.endswith((":int", ":float")):
            value = float(yaml.safe_load(node.value))
            if value >= 0:
                return value
            raise UserError(f"{where}（第{line}行）不能为负数：「{node.value}」")
    wanted = "数字或 null" if allow_null else "数字"
    shown = node.value if isinstance(node, yaml.ScalarNode) else "（不是单个值）"
    raise UserError(f"{where}（第{line}行）应为{wanted}，实为「{shown}」")


def _mapping(node: yaml.Node, where: str) -> list[tuple[str, yaml.Node, int]]:
    if not isinstance(node, yaml.MappingNode):
        raise UserError(f"{where}（第{node.start_mark.line + 1}行）应为「键: 值」的列表")
    out = []
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode):
            raise UserError(f"{where}（第{key.start_mark.line + 1}行）的键应为文字")
        out.append((key.value, value, key.start_mark.line + 1))
    return out


def _rule(
    entries: list[tuple[str, yaml.Node, int]], base: ObligationRule, where: str
) -> ObligationRule:
    values: dict[str, float | None] = {
        "late": base.late,
        "missing": base.missing,
        "cap": base.cap,
    }
    for key, node, _ in entries:
        if key in RULE_KEYS:
            values[key] = _number(node, f"{where}「{key}」", allow_null=key == "cap")
    late, missing = values["late"], values["missing"]
    assert late is not None and missing is not None  # only cap may be null
    return ObligationRule(late=late, missing=missing, cap=values["cap"])


def parse_rules(text: str, *, source: str) -> Rules:
    """Rules from YAML text; a bad key or value raises one Chinese message naming its line."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"第{mark.line + 1}行" if mark is not None else "某处"
        raise UserError(f"考评标准 {source} 的{where}不是有效的 YAML：{exc}") from None
    if root is None:
        raise UserError(f"考评标准 {source} 是空文件")
    top = _mapping(root, f"考评标准 {source}")
    for key, _, line in top:
        if key not in TOP_KEYS:
            raise UserError(
                f"考评标准 {source} 第{line}行的键「{key}」无效，应为 {'、'.join(TOP_KEYS)} 之一"
            )
    values = {key: node for key, node, _ in top}
    full = values.get("full_score")
    floor = values.get("floor")
    full_score = _number(full, f"考评标准 {source} 的「full_score」") if full else 100.0
    floor_score = _number(floor, f"考评标准 {source} 的「floor」") if floor else 0.0
    assert full_score is not None and floor_score is not None
    if floor_score > full_score:
        raise UserError(f"考评标准 {source}：最低分 floor 不能高于满分 full_score")
    default = _rule(top, Rules.default, f"考评标准 {source} 的")
    obligations: dict[str, ObligationRule] = {}
    if "obligations" in values:
        for slug, node, _line in _mapping(
            values["obligations"], f"考评标准 {source} 的「obligations」"
        ):
            entries = _mapping(node, f"考评标准 {source} 的「obligations.{slug}」")
            for key, _, key_line in entries:
                if key not in RULE_KEYS:
                    raise UserError(
                        f"考评标准 {source} 第{key_line}行的键「obligations.{slug}.{key}」无效，"
                        f"应为 {'、'.join(RULE_KEYS)} 之一"
                    )
            obligations[slug] = _rule(entries, default, f"考评标准 {source} 的「{slug}」")
    return Rules(full_score, floor_score, default, obligations, source)


def load_rules(path: Path | None = None, *, known: set[str] | None = None) -> Rules:
    """The rules in ``path`` (the default file without one). With ``known`` obligation codes,
    an obligation the registry does not know is refused (a typo would silently score nothing)."""
    path = path or DEFAULT_RULES
    source = "默认考评标准" if path == DEFAULT_RULES else str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"考评标准文件 {path} 不存在") from None
    except UnicodeDecodeError:
        raise UserError(f"考评标准文件 {path} 不是 UTF-8 编码的文本") from None
    except IsADirectoryError:
        raise UserError(f"考评标准 {path} 是文件夹，请指定 YAML 文件") from None
    except PermissionError:
        raise UserError(f"考评标准文件 {path} 没有读取权限") from None
    rules = parse_rules(text, source=source)
    if known is not None:
        for slug in rules.obligations:
            if slug not in known:
                raise UserError(
                    f"考评标准 {source} 的「obligations」中没有事项代码「{slug}」"
                    f"（可用 zwgk obligations 查看），应为 {'、'.join(sorted(known))} 之一"
                )
    return rules


def rules_for(district: str, var_dir: Path, path: Path | None = None) -> Path | None:
    """The rules file to use: the one given, else the district's own
    (``var/assessment/<district>.yaml``) if there is one, else None (the default)."""
    if path is not None:
        return path
    own = var_dir / "assessment" / f"{district}.yaml"
    return own if own.exists() else None


# --- Counts ------------------------------------------------------------------------------------


@dataclass
class UnitCounts:
    """One unit's items due in a period: per obligation and period, and in total."""

    unit: str
    kind: str
    by_obligation: dict[tuple[str, str], UnitProgress] = field(default_factory=dict)

    @property
    def total(self) -> UnitProgress:
        t = UnitProgress(self.unit, "", "")
        for p in self.by_obligation.values():
            t.add(p)
        return t


def _due_in(stmt: Any, start: date, end: date, district: str | None) -> Any:
    stmt = stmt.where(col(ChecklistItem.due) >= start).where(col(ChecklistItem.due) <= end)
    return stmt.where(Unit.district == district) if district else stmt


def join_awaiting(stmt: Any) -> Any:
    """``stmt`` (over ChecklistItem) with the item's submission awaiting review (待审核)
    outer-joined: group by :data:`AWAITING` and count ``DISTINCT`` item ids."""
    return stmt.outerjoin(
        Submission,
        and_(
            col(Submission.item_id) == col(ChecklistItem.id),
            col(Submission.review) == ReviewState.awaiting,
        ),
    )


AWAITING = col(Submission.id).is_not(None)
ITEMS = func.count(distinct(col(ChecklistItem.id)))


def counts_due(
    *,
    session: Session,
    start: date,
    end: date,
    today: date,
    district: str | None = None,
    titles: Mapping[str, str] | None = None,
) -> list[UnitCounts]:
    """Status counts per unit, obligation and period of the items due from ``start`` to ``end``
    (inclusive), as of ``today``: one ``GROUP BY``, plus the few done items that have no
    recorded verdict. Units in name order."""
    titles = titles or {}
    late = col(ChecklistItem.due) < today
    key = (
        col(Unit.name),
        col(Unit.kind),
        col(ChecklistItem.obligation),
        col(ChecklistItem.period),
        col(ChecklistItem.status),
        late,
        col(ChecklistItem.on_time),
        AWAITING,
    )
    join = col(Unit.id) == col(ChecklistItem.unit_id)
    stmt = _due_in(
        join_awaiting(select(*key, ITEMS).join(Unit, join)),  # type: ignore[call-overload]
        start,
        end,
        district,
    )
    rows = session.exec(stmt.group_by(*key)).all()
    # Done items without a recorded verdict, judged by the date; those awaiting review are
    # counted as 待审核 above, not here again.
    unjudged = session.exec(
        _due_in(
            join_awaiting(
                select(  # type: ignore[call-overload]
                    col(Unit.name),
                    col(Unit.kind),
                    col(ChecklistItem.obligation),
                    col(ChecklistItem.period),
                    col(ChecklistItem.due),
                    col(ChecklistItem.completed_at),
                ).join(Unit, join)
            )
            .where(ChecklistItem.status == ItemStatus.done)
            .where(col(ChecklistItem.on_time).is_(None))
            .where(~AWAITING),
            start,
            end,
            district,
        )
    ).all()
    units: dict[str, UnitCounts] = {}

    def of(name: str, kind: str, obligation: str, period: str) -> UnitProgress:
        u = units.setdefault(name, UnitCounts(name, kind))
        p = u.by_obligation.get((obligation, period))
        if p is None:
            title = titles.get(obligation, obligation)
            p = u.by_obligation[(obligation, period)] = UnitProgress(name, obligation, title)
        return p

    for name, kind, obligation, period, status, is_late, on_time, awaiting, n in rows:
        of(name, kind, obligation, period).tally(
            status, past_due=is_late, on_time=on_time, n=n, awaiting=awaiting
        )
    for name, kind, obligation, period, due, completed in unjudged:
        of(name, kind, obligation, period).tally_by_date(due, as_utc(completed))
    return [units[name] for name in sorted(units)]


# --- Scores ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deduction:
    """One reason a unit lost points (扣分原因)."""

    obligation_title: str
    reason: str
    points: float


@dataclass
class UnitScore:
    unit: str
    counts: UnitProgress
    score: float
    deductions: list[Deduction]

    @property
    def deducted(self) -> float:
        return sum(d.points for d in self.deductions)


def points(value: float) -> str:
    """0.5 → 0.5, 1.0 → 1, 97.25 → 97.25 (scores as an office writes them)."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def score_unit(counts: UnitCounts, rules: Rules) -> UnitScore:
    """The unit's score: the full score less the deductions of every obligation (each at most
    its cap), not below the floor; every deduction with its reason."""
    deductions: list[Deduction] = []
    per_obligation: dict[str, list[tuple[str, UnitProgress]]] = {}
    for (obligation, period), p in sorted(counts.by_obligation.items()):
        per_obligation.setdefault(obligation, []).append((period, p))
    for obligation, periods in per_obligation.items():
        rule = rules.for_obligation(obligation)
        title = periods[0][1].obligation_title
        found: list[Deduction] = []
        for label, attr, cost in (
            ("逾期完成", "done_late", rule.late),
            ("逾期未完成", "overdue", rule.missing),
        ):
            n = sum(getattr(p, attr) for _, p in periods)
            if not n or not cost:
                continue
            hit = [(period, getattr(p, attr)) for period, p in periods if getattr(p, attr)]
            where = "、".join(
                f"{cn_period(period)}{k}项" if len(hit) > 1 else cn_period(period)
                for period, k in hit
            )
            found.append(
                Deduction(
                    title,
                    f"{title}{label}{n}项（{where}），每项扣{points(cost)}分",
                    n * cost,
                )
            )
        lost = sum(d.points for d in found)
        if rule.cap is not None and lost > rule.cap:
            found.append(
                Deduction(
                    title,
                    f"{title}合计扣{points(lost)}分，超过该项上限{points(rule.cap)}分，按上限计",
                    rule.cap - lost,
                )
            )
        deductions += found
    lost = sum(d.points for d in deductions)
    score = max(rules.full_score - lost, rules.floor)
    if rules.full_score - lost < rules.floor:
        deductions.append(
            Deduction("", f"扣分后低于最低分{points(rules.floor)}分，按最低分计", 0.0)
        )
    return UnitScore(counts.unit, counts.total, round(score, 2), deductions)


def _merit(s: UnitScore) -> tuple[float, float, float]:
    return (-s.score, -s.counts.on_time_rate, -s.counts.completion_rate)


def rank(scores: list[UnitScore]) -> list[UnitScore]:
    """Best first: score, then the on-time rate, then the completion rate; units equal in
    all three are listed by name, and share their place (:func:`places`)."""
    return sorted(scores, key=lambda s: (*_merit(s), s.unit))


def places(ranked: list[UnitScore]) -> list[int]:
    """The place of each unit of a :func:`rank` ed list: units equal in score and rates
    share one (1, 2, 2, 4), so that a name's order in the alphabet never ranks a unit."""
    out: list[int] = []
    for i, s in enumerate(ranked):
        tied = i > 0 and _merit(s) == _merit(ranked[i - 1])
        out.append(out[-1] if tied else i + 1)
    return out


@dataclass
class Assessment:
    """A year's 考核 of a district's units."""

    year: int
    district: str
    as_of: date
    rules: Rules
    scores: list[UnitScore]  # ranked

    def as_json(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "district": self.district,
            "as_of": self.as_of.isoformat(),
            "rules": self.rules.source,
            "units": [
                {
                    "rank": i,
                    "unit": s.unit,
                    "score": s.score,
                    "done_on_time": s.counts.done_on_time,
                    "done_late": s.counts.done_late,
                    "overdue": s.counts.overdue,
                    "open": s.counts.open,
                    "waived": s.counts.waived,
                    "deductions": [{"reason": d.reason, "points": d.points} for d in s.deductions],
                }
                for i, s in zip(places(self.scores), self.scores, strict=True)
            ],
        }


def build_assessment(
    *,
    session: Session,
    year: int,
    district: str,
    today: date,
    rules: Rules,
    titles: Mapping[str, str],
) -> Assessment:
    """Every unit with items due in ``year``, scored by ``rules`` as of ``today``."""
    counts = counts_due(
        session=session,
        start=date(year, 1, 1),
        end=date(year, 12, 31),
        today=today,
        district=district,
        titles=titles,
    )
    return Assessment(year, district, today, rules, rank([score_unit(c, rules) for c in counts]))


def _md(value: object) -> str:
    return " ".join(str(value).split()).replace("|", "\\|")


def assessment_markdown(a: Assessment) -> str:
    """The ranked scores, then every unit's deductions with their reasons."""
    r = a.rules
    lines = [
        f"## {a.district}{a.year}年度政务公开考核结果（截至{cn_day(a.as_of)}）",
        "",
        f"考评标准：{r.source}。满分{points(r.full_score)}分；逾期完成每项扣"
        f"{points(r.default.late)}分，逾期未完成每项扣{points(r.default.missing)}分"
        + (f"，每项重点工作最多扣{points(r.default.cap)}分" if r.default.cap is not None else "")
        + (f"，最低{points(r.floor)}分" if r.floor else "")
        + "。",
        "",
        "| 排名 | 单位 | 得分 | 按时完成 | 逾期完成 | 逾期未完成 | 免办 | 扣分 |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for i, s in zip(places(a.scores), a.scores, strict=True):
        c = s.counts
        lines.append(
            f"| {i} | {_md(s.unit)} | {points(s.score)} | {c.done_on_time} | {c.done_late} | "
            f"{c.overdue} | {c.waived} | {points(s.deducted)} |"
        )
    if not a.scores:
        lines.append("| — | 本年度没有到期事项 | | | | | | |")
    lines += ["", "### 扣分明细", ""]
    any_deduction = False
    for s in a.scores:
        if not s.deductions:
            continue
        any_deduction = True
        lines.append(f"**{_md(s.unit)}**（{points(s.score)}分）")
        lines.append("")
        for d in s.deductions:
            sign = "扣" if d.points >= 0 else "核减"
            lines.append(f"- {_md(d.reason)}：{sign}{points(abs(d.points))}分")
        lines.append("")
    if not any_deduction:
        lines.append("各单位均无扣分。")
    return "\n".join(lines).rstrip() + "\n"
