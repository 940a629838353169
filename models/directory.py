"""The unit directory (责任单位名录) as every layer reads it: active units, districts, a unit
by name or alias, the kinds a district declared, and the groups a unit belongs to.

Queries only (keyword-only, explicit session, the caller commits); importing the directory
from CSV is ``zwgk.intake.directory``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlmodel import Session, col, select

from models.unit import KIND_LABELS, DistrictKind, Unit, UnitKind
from zwgk.errors import UserError, clip

# Group phrases implied by kind (组别): 区政府各部门 = departments, 各街镇 = streets and
# towns, 园区 = parks, 各单位 = everyone.
KIND_GROUPS: dict[UnitKind, tuple[str, ...]] = {
    UnitKind.office: ("区政府办公室",),
    UnitKind.department: ("区政府各部门", "各委办局"),
    UnitKind.street: ("各街道（镇）", "各街镇", "各街道"),
    UnitKind.town: ("各街道（镇）", "各街镇", "各镇"),
    UnitKind.park: ("园区", "各园区"),
}
ALL_GROUP = "各单位"


def kind_groups(kind: str, declared: Mapping[str, DistrictKind] | None = None) -> tuple[str, ...]:
    """The group phrases a kind implies: the default set's for a default kind, and those the
    district declared for it (a district may add group names to a default kind)."""
    groups = KIND_GROUPS.get(UnitKind(kind), ()) if kind in KIND_GROUPS else ()
    d = (declared or {}).get(kind)
    if d is not None:
        groups += tuple(g for g in d.groups if g not in groups)
    return groups


def kind_label(kind: str, declared: Mapping[str, DistrictKind] | None = None) -> str:
    d = (declared or {}).get(kind)
    if d is not None and d.label:
        return d.label
    return KIND_LABELS[UnitKind(kind)] if kind in KIND_LABELS else kind


def unit_groups(unit: Unit, declared: Mapping[str, DistrictKind] | None = None) -> list[str]:
    """Every group the unit belongs to: from its kind, 各单位, and its explicit groups.

    ``declared``: the district's own kinds (:func:`declared_kinds`), for units of those kinds.
    """
    groups = [*kind_groups(unit.kind, declared), ALL_GROUP]
    groups += [g for g in unit.groups if g not in groups]
    return groups


def declared_kinds(*, session: Session, district: str) -> dict[str, DistrictKind]:
    """The kinds ``district`` declared beyond the default set, by kind name."""
    rows = session.exec(select(DistrictKind).where(DistrictKind.district == district))
    return {k.kind: k for k in rows}


def list_units(*, session: Session, district: str | None = None) -> list[Unit]:
    stmt = select(Unit).where(Unit.active == True)  # noqa: E712
    if district:
        stmt = stmt.where(Unit.district == district)
    return list(session.exec(stmt.order_by(col(Unit.district), col(Unit.id))))


def districts(*, session: Session) -> list[str]:
    return sorted(set(session.exec(select(Unit.district).where(Unit.active == True))))  # noqa: E712


def resolve_district(*, session: Session, district: str | None, default: str | None) -> str:
    """The district to work on: given, configured, or the only one in the directory."""
    if district:
        if district not in districts(session=session):
            raise UserError(
                f"单位名录中没有「{district}」的单位：请先 zwgk units import FILE --district {district}"
            )
        return district
    known = districts(session=session)
    if default:
        if default in known:
            return default
        raise UserError(
            f"ZWGK_DEFAULT_DISTRICT 为「{default}」，但单位名录中没有该区的单位"
            + (f"（名录中有：{'、'.join(known)}）" if known else "")
            + f"：请先 zwgk units import FILE --district {default}，或改用 --district 指定"
        )
    if len(known) == 1:
        return known[0]
    if not known:
        raise UserError(
            "单位名录为空：请先运行 zwgk init --sample 或 zwgk units import FILE --district 区名"
        )
    raise UserError(f"名录中有多个区（{'、'.join(known)}）：请用 --district 指定")


def find_unit(*, session: Session, name: str, district: str | None = None) -> Unit:
    """A unit by name or alias."""
    units = list_units(session=session, district=district)
    for u in units:
        if u.name == name:
            return u
    matches = [u for u in units if name in u.aliases]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise UserError(f"单位名录中没有「{clip(name)}」")
    raise UserError(
        f"「{clip(name)}」对应多个单位：{'、'.join(u.name + '（' + u.district + '）' for u in matches)}，请用 --district 指定"
    )


def members(units: Sequence[Unit], group: str) -> list[Unit]:
    return [u for u in units if group in unit_groups(u)]
