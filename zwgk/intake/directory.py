"""Importing the unit directory (责任单位名录) and a district's unit kinds from CSV.

The lookups (units, districts, a unit's groups) are ``models.directory``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from models.directory import declared_kinds, kind_label
from models.unit import KIND_LABELS, DistrictKind, Unit, UnitKind
from zwgk.clock import utcnow
from zwgk.errors import clip, refused
from zwgk.intake.tabular import read_csv_rows, split_list

UNIT_COLUMNS = ("name", "aliases", "kind", "email", "contact", "groups")
KIND_COLUMNS = ("kind", "label", "groups")

# Chinese words administrators type in the kind column, mapped to kinds.
KIND_WORDS: dict[str, UnitKind] = {
    "区政府办公室": UnitKind.office,
    "办公室": UnitKind.office,
    "委办局": UnitKind.department,
    "部门": UnitKind.department,
    "区政府部门": UnitKind.department,
    "街道": UnitKind.street,
    "街道办事处": UnitKind.street,
    "镇": UnitKind.town,
    "镇政府": UnitKind.town,
    "镇人民政府": UnitKind.town,
    "园区": UnitKind.park,
}

# Longer than this is another column pasted into the cell, not a unit's name or contact.
MAX_NAME, MAX_CONTACT = 100, 200

EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}$")


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    changes: list[UnitChange] = field(default_factory=list)  # of the updated units

    @property
    def counts(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}

    def audit_values(self) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        """The audit entry's before/after: the counts, and each updated unit's changed fields
        (「区科委 邮箱」: old → new), the first :data:`MAX_AUDITED_CHANGES`, then ``more``: the
        number left out."""
        before: dict[str, Any] = {}
        after: dict[str, Any] = dict(self.counts)
        for c in self.changes[:MAX_AUDITED_CHANGES]:
            before[f"{c.unit} {c.field}"] = c.old
            after[f"{c.unit} {c.field}"] = c.new
        if len(self.changes) > MAX_AUDITED_CHANGES:
            after["more"] = len(self.changes) - MAX_AUDITED_CHANGES
        return before or None, after


# A unit's fields as the office names them, in the order a change is listed.
UNIT_FIELD_LABELS = {
    "kind": "类别",
    "email": "邮箱",
    "contact": "联络员",
    "aliases": "又称",
    "groups": "所属组",
    "active": "启用",
}
MAX_AUDITED_CHANGES = 50


@dataclass(frozen=True)
class UnitChange:
    """One field of one unit an import changes, old and new as the office reads them."""

    unit: str
    field: str  # 邮箱, 联络员 …
    old: str
    new: str

    def __str__(self) -> str:
        return f"{self.field}：{self.old} → {self.new}"


def _shown(key: str, value: object, declared: Mapping[str, DistrictKind]) -> str:
    if key == "kind":
        return kind_label(str(value), declared)
    if key == "active":
        return "是" if value else "否"
    if isinstance(value, list | tuple):
        return "、".join(str(v) for v in value) or "（空）"
    return str(value) if value not in (None, "") else "（空）"


def parse_kind(value: str, declared: Mapping[str, DistrictKind] | None = None) -> str | None:
    """The kind ``value`` names: a default kind (English or Chinese word) or a declared one
    (by its name or label); None when it names none."""
    v = value.strip()
    try:
        return UnitKind(v.lower()).value
    except ValueError:
        pass
    if v in KIND_WORDS:
        return KIND_WORDS[v].value
    for d in (declared or {}).values():
        if v in (d.kind, d.label):
            return d.kind
    return None


def closest_kind(value: str, declared: Mapping[str, DistrictKind] | None = None) -> str | None:
    """The kind word an unknown ``value`` most likely means (``departmnet`` → ``department``,
    ``街道办`` → ``街道办事处``, ``国有企企`` → a declared ``国有企业``), or None."""
    v = value.strip()
    words = [k.value for k in UnitKind] + list(KIND_WORDS) + list(declared or {})
    # A Chinese kind word inside the value or the value inside one: 街道办 → 街道.
    chinese = [*KIND_WORDS, *(declared or {})]
    inside = [w for w in chinese if len(w) > 1 and (w in v or (len(v) > 1 and v in w))]
    if inside:
        return max(inside, key=len)
    close = get_close_matches(v.lower(), words, n=1, cutoff=0.5)
    return close[0] if close else None


def _kind_problem(value: str, declared: Mapping[str, DistrictKind] | None = None) -> str:
    if not value.strip():
        return "字段「kind」为空"
    own = [k for k in declared or {} if k not in KIND_LABELS]
    known = "、".join([f"{k.value}（{KIND_LABELS[k]}）" for k in UnitKind] + own)
    guess = closest_kind(value, declared)
    hint = f"，是否为「{guess}」？" if guess else "。"
    return f"字段「kind」：未知类别「{clip(value)}」{hint}可用类别：{known}"


def parse_units_csv(path: Path, declared: Mapping[str, DistrictKind] | None = None) -> list[dict]:
    """Validate a units CSV completely; return clean rows or raise one UserError.

    ``declared``: the district's own kinds, accepted in the kind column beside the defaults.
    """
    rows = read_csv_rows(path, UNIT_COLUMNS)
    errors: list[str] = []
    seen: dict[str, int] = {}
    clean: list[dict] = []
    for rowno, row in rows:
        name = row["name"]
        problems = []
        if not name:
            problems.append("字段「name」为空")
        elif len(name) > MAX_NAME:
            problems.append(f"字段「name」：「{clip(name)}」过长（最多 {MAX_NAME} 字）")
        elif name in seen:
            problems.append(f"字段「name」：单位「{name}」与第 {seen[name]} 行重复")
        kind = parse_kind(row["kind"], declared)
        if kind is None:
            problems.append(_kind_problem(row["kind"], declared))
        email = row["email"]
        if not EMAIL_RE.fullmatch(email):
            problems.append(f"字段「email」：「{clip(email)}」不是有效的邮箱地址")
        for fld in ("aliases", "groups"):
            too_long = [p for p in split_list(row[fld]) if len(p) > MAX_NAME]
            if too_long:
                problems.append(f"字段「{fld}」：「{clip(too_long[0])}」过长（最多 {MAX_NAME} 字）")
        if len(row["contact"]) > MAX_CONTACT:
            problems.append(f"字段「contact」：过长（最多 {MAX_CONTACT} 字）")
        for p in problems:
            errors.append(f"文件 {path} 第 {rowno} 行，{p}")
        if name and len(name) <= MAX_NAME and name not in seen:
            seen[name] = rowno
        if not problems:
            aliases = [a for a in split_list(row["aliases"]) if a != name]
            clean.append(
                dict(
                    name=name,
                    aliases=aliases,
                    kind=kind,
                    email=email,
                    contact=row["contact"],
                    groups=split_list(row["groups"]),
                    rowno=rowno,
                )
            )
    # An alias must not name another unit: it would make plan phrases ambiguous.
    names = {r["name"]: r["rowno"] for r in clean}
    owner: dict[str, str] = {}
    for r in clean:
        for a in r["aliases"]:
            if a in names:
                errors.append(
                    f"文件 {path} 第 {r['rowno']} 行，字段「aliases」：别名「{a}」是第 {names[a]} 行单位的名称"
                )
            elif a in owner and owner[a] != r["name"]:
                errors.append(
                    f"文件 {path} 第 {r['rowno']} 行，字段「aliases」：别名「{a}」已属于单位「{owner[a]}」"
                )
            owner.setdefault(a, r["name"])
    if not rows:
        errors.append(f"文件 {path}：表头之后没有任何单位")
    if errors:
        raise refused("单位名录", errors)
    return clean


def import_units(*, session: Session, path: Path, district: str) -> ImportResult:
    """Upsert the units of ``path`` into ``district``. Idempotent; the caller commits."""
    declared = declared_kinds(session=session, district=district)
    rows = parse_units_csv(path, declared)
    existing = {u.name: u for u in session.exec(select(Unit).where(Unit.district == district))}
    result = ImportResult()
    for r in rows:
        fields = dict(
            aliases=r["aliases"],
            kind=r["kind"],
            email=r["email"],
            contact=r["contact"],
            groups=r["groups"],
            active=True,
        )
        unit = existing.get(r["name"])
        if unit is None:
            session.add(Unit(district=district, name=r["name"], **fields))
            result.created += 1
            continue
        changed = False
        for key in UNIT_FIELD_LABELS:
            value = fields[key]
            if getattr(unit, key) != value:
                result.changes.append(
                    UnitChange(
                        unit.name,
                        UNIT_FIELD_LABELS[key],
                        _shown(key, getattr(unit, key), declared),
                        _shown(key, value, declared),
                    )
                )
                setattr(unit, key, value)
                changed = True
        if changed:
            unit.updated_at = utcnow()
            session.add(unit)
            result.updated += 1
        else:
            result.unchanged += 1
    return result


def parse_kinds_csv(path: Path) -> list[dict]:
    """Validate a kinds CSV (kind,label,groups) completely; clean rows or one UserError.

    A row declares a kind of the district's own (事业单位, 国有企业…) with its label and the
    group phrases that name all its units (各区属国有企业); a row naming a default kind
    (town, 镇…) adds group phrases to it (各乡镇).  One group phrase may name several kinds.
    """
    rows = read_csv_rows(path, KIND_COLUMNS)
    errors: list[str] = []
    seen: dict[str, int] = {}
    clean: list[dict] = []
    for rowno, row in rows:
        label, groups = row["label"], split_list(row["groups"])
        kind = parse_kind(row["kind"]) or row["kind"]
        problems = []
        if not kind:
            problems.append("字段「kind」为空")
        elif len(kind) > MAX_NAME:
            problems.append(f"字段「kind」：「{clip(kind)}」过长（最多 {MAX_NAME} 字）")
        elif kind in seen:
            problems.append(f"字段「kind」：类别「{row['kind']}」与第 {seen[kind]} 行重复")
        if len(label) > MAX_NAME:
            problems.append(f"字段「label」：「{clip(label)}」过长（最多 {MAX_NAME} 字）")
        too_long = [g for g in groups if len(g) > MAX_NAME]
        if too_long:
            problems.append(f"字段「groups」：「{clip(too_long[0])}」过长（最多 {MAX_NAME} 字）")
        for p in problems:
            errors.append(f"文件 {path} 第 {rowno} 行，{p}")
        if kind and len(kind) <= MAX_NAME:
            seen.setdefault(kind, rowno)
        if not problems:
            clean.append(dict(kind=kind, label=label, groups=groups))
    if not rows:
        errors.append(f"文件 {path}：表头之后没有任何类别")
    if errors:
        raise refused("单位类别", errors)
    return clean


def import_kinds(*, session: Session, path: Path, district: str) -> ImportResult:
    """Upsert the kinds ``district`` declares (``path``: kind,label,groups). Kinds not in the
    file are kept: units may still be of them. The caller commits."""
    rows = parse_kinds_csv(path)
    existing = declared_kinds(session=session, district=district)
    result = ImportResult()
    for r in rows:
        current = existing.get(r["kind"])
        if current is None:
            session.add(DistrictKind(district=district, **r))
            result.created += 1
        elif (current.label, current.groups) != (r["label"], r["groups"]):
            current.label, current.groups = r["label"], r["groups"]
            session.add(current)
            result.updated += 1
        else:
            result.unchanged += 1
    return result
