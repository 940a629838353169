"""Resolve one name or group phrase of a 责任单位 cell against the unit directory (单位名录).

:class:`Directory` holds the lookup tables over the :class:`DirectoryEntry` rows; its
:meth:`Directory.resolve` says what one piece of a cell stands for (units, a group, nobody, or
nothing known).  Splitting a cell into such pieces is :mod:`zwgk.intake.plan.unitsplit`'s job.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from zwgk.intake.plan.unitwords import (
    ALL_KINDS,
    DISTRICT_PREFIX_RE,
    GROUP_PHRASES,
    KIND_DEPARTMENT,
    NOBODY_PHRASES,
    NOBODY_RE,
    PAREN_RE,
    TRAILING_DENG_RE,
    group_key,
    norm,
)

__all__ = ["Directory", "DirectoryEntry", "Resolved"]


@dataclass(frozen=True)
class DirectoryEntry:
    """One unit of the directory (单位名录) as the phrase parser sees it."""

    name: str  # canonical, e.g. "区政府办公室"
    aliases: tuple[str, ...] = ()  # e.g. ("区政府办", "区人民政府办公室")
    kind: str = KIND_DEPARTMENT  # office | department | street | town | park
    groups: tuple[str, ...] = ()  # extra group names beyond the kind's


@dataclass
class Resolved:
    """What one name (or group phrase) stands for."""

    entries: list[DirectoryEntry] = field(default_factory=list)
    known: bool = True  # False: nothing in the directory matches
    nobody: str = ""  # the 相关单位-like phrase, when it names nobody
    warnings: list[str] = field(default_factory=list)


class Directory:
    """Lookup tables over the directory entries."""

    def __init__(self, entries: Sequence[DirectoryEntry]) -> None:
        self.entries = list(entries)
        self.order = {e.name: i for i, e in enumerate(self.entries)}
        self.by_name: dict[str, DirectoryEntry] = {}
        for e in self.entries:  # canonical names win over aliases
            self.by_name.setdefault(norm(e.name), e)
        for e in self.entries:
            for a in e.aliases:
                self.by_name.setdefault(norm(a), e)
        self.by_group: dict[str, list[DirectoryEntry]] = {}
        for e in self.entries:
            for g in e.groups:
                for key in {norm(g), group_key(norm(g))}:
                    members = self.by_group.setdefault(key, [])
                    if e not in members:
                        members.append(e)

    def unit(self, name: str) -> DirectoryEntry | None:
        """A single unit by name/alias, trying the usual variants of the spelling."""
        for variant in self.variants(name):
            e = self.by_name.get(variant)
            if e is not None:
                return e
        return None

    @staticmethod
    def variants(name: str) -> Iterable[str]:
        """The spellings ``name`` may be listed under: ``政府`` for ``人民政府``, without ``和``,
        ``区`` for a district prefix, a street or town without ``办事处``/``政府``, and each of
        these with a ``区`` in front."""
        seen: set[str] = set()
        bases = [name, name.replace("人民政府", "政府")]
        if "和" in name:  # 区人力资源和社会保障局 → 区人力资源社会保障局
            bases.append(name.replace("和", ""))
        m = DISTRICT_PREFIX_RE.match(name)
        if m:
            bases.append("区" + name[m.end() :])
        stripped = re.sub(r"(?:办事处|人民政府|政府)$", "", name)
        if stripped and stripped != name and stripped.endswith(("街道", "镇")):
            bases.append(stripped)
        for base in bases:
            for v in (base, base if base.startswith("区") else "区" + base):
                if v not in seen:
                    seen.add(v)
                    yield v

    def kinds(self, kinds: tuple[str, ...]) -> list[DirectoryEntry]:
        if ALL_KINDS in kinds:
            return list(self.entries)
        return [e for e in self.entries if e.kind in kinds]

    def group(self, phrase: str) -> list[DirectoryEntry] | None:
        for key in (phrase, group_key(phrase)):
            if key in self.by_group:
                return list(self.by_group[key])
        return None

    def resolve(self, name: str, *, depth: int = 0) -> Resolved:
        """Resolve one name/group phrase (no separators at bracket depth 0, no whitespace)."""
        name = name.strip("、，；/ ")
        if name.startswith("由") and len(name) > 2:
            name = name[1:]
        stripped = TRAILING_DENG_RE.sub("", name)
        if stripped and stripped != name:
            name = stripped
        if not name:
            return Resolved()
        e = self.by_name.get(name)
        if e is not None:
            return Resolved([e])
        if name in GROUP_PHRASES:
            members = self.kinds(GROUP_PHRASES[name])
            warnings = [] if members else [f"「{name}」在单位名录中没有对应单位"]
            return Resolved(members, warnings=warnings)
        members_or_none = self.group(name)
        if members_or_none is not None:
            return Resolved(members_or_none)
        if name in NOBODY_PHRASES or NOBODY_RE.match(name):
            return Resolved(nobody=name)
        e = self.unit(name)
        if e is not None:
            return Resolved([e])
        m = PAREN_RE.match(name)
        if m and depth < 3:
            return self._resolve_bracketed(name, m, depth)
        return Resolved(known=False)

    def _resolve_bracketed(self, name: str, m: re.Match[str], depth: int) -> Resolved:
        """``外名（内名）``: a sub-office or a second name of the outer unit; outer first."""
        outer, inner, rest = m.group("outer"), m.group("inner"), m.group("rest")
        if rest:  # 文件制定（起草）单位: try without the bracket, then with the inner words
            for candidate in (outer + rest, inner + rest):
                r = self.resolve(candidate, depth=depth + 1)
                if r.known:
                    return r
            return Resolved(known=False)
        first = self.resolve(outer, depth=depth + 1)
        second = self._resolve_inner(inner, depth)
        if first.known and (first.entries or first.nobody):
            if (
                second is not None
                and second.entries
                and len(first.entries) == 1
                and {e.name for e in second.entries} != {first.entries[0].name}
            ):
                first.warnings.append(
                    f"「{name}」括号内外对应不同单位，按「{first.entries[0].name}」计，请管理员核对"
                )
            return first
        if second is not None and second.known:
            return second
        return Resolved(known=False)

    def _resolve_inner(self, inner: str, depth: int) -> Resolved | None:
        """The bracketed part: one name, or several sub-offices (督查科、政务公开办)."""
        if not inner:
            return None
        whole = self.resolve(inner, depth=depth + 1)
        if whole.known and (whole.entries or whole.nobody):
            return whole
        parts = [p for p in re.split(r"[、，；]", inner) if p]
        found: list[DirectoryEntry] = []
        for p in parts:
            r = self.resolve(p, depth=depth + 1)
            found += [e for e in r.entries if e not in found]
        return Resolved(found) if found else Resolved(known=False)
