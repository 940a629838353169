"""Turn a plan's 责任单位 (responsible-unit) cell into roles resolved against the unit directory.

``parse_units(text, directory)`` returns a :class:`UnitAssignment`: the lead units (牵头单位),
everyone who must do the task (``units``: leads + 负责/落实/责任单位), the cooperating units
(配合单位), names it could not resolve (``unknown``, for the caller to report), the closest
directory name for those that are near misses (``suggestions``) and warnings.

Forms understood (with or without the line breaks/spaces PDF extraction leaves in cells):

* plain lists — ``区政府各部门、各街道（镇）`` · ``区建管委、区财政局`` · ``各街镇、园区，区政府各部门``;
  separators ``、，,；;`` / line breaks / spaces / ``和`` / ``及`` / ``与`` / ``等``.  A phrase
  that names no 牵头 has no lead: every unit it names (other than 配合) is responsible (负责).
* suffix roles — ``区政府办公室（政务公开办）牵头，相关单位落实`` · ``区科委牵头\\n相关单位配合`` ·
  ``区发展改革委牵头，区商务委、科委、人社局、税务局等部门配合`` · ``…各街镇负责``: the units
  before ``牵头`` lead, before ``负责``/``落实`` are responsible, before ``配合``/``协办``/``参与``
  cooperate; units after the last marker with no marker of their own are responsible.
  The role word may carry its noun at the end of a clause: ``…牵头单位`` / ``…配合部门`` /
  ``…责任单位`` (no colon: a colon makes it a label).
* a list ending in ``等…单位/部门`` — ``区发展改革委、区经委、区房管局等集成式发布工作牵头单位`` ·
  ``区民政局、区教育局等有关部门`` · ``区民政局等行业主管部门`` · ``区科委等部门配合``: the listed
  units keep the role of the tail (牵头 here; responsible when the tail has no role word).  The
  descriptive words between ``等`` and the role word (or the closing ``单位``/``部门``) are
  dropped when they resolve to nothing in the directory and are no near miss of a directory
  name; words that do resolve (``区民政局等各街镇负责``) are units like any other.
* labels — ``牵头单位：区财政局；责任单位：各街镇、园区、区政府各部门`` ·
  ``责任单位：区政府各相关部门；配合单位：区政务服务中心``.
* a role in brackets after one unit — ``区财政局（牵头）、区审计局``.
* groups — ``区政府各部门``/``各部门``/``各委办局``/``区政府各委、办、局``/``区级各部门`` → kind
  department; ``各街道（镇）``/``各街镇``/``各街道办事处`` → streets and towns (``各镇`` towns only,
  ``各街道`` streets only); ``园区``/``各园区`` → parks; ``各单位``/``全区各单位`` → every unit; a
  phrase equal to one of an entry's ``groups`` (also with ``各``/``区政府各`` in front) → those
  entries.
* names — canonical names and aliases (``区政府办`` → ``区政府办公室``); a bare short name without
  the ``区`` prefix (``科委`` → ``区科委``); ``人民政府`` for ``政府``; a district prefix
  (``上海市长宁区教育局`` → ``区教育局``).  A bracketed part is a sub-office
  (``区政府办公室（法律事务科）``, ``区政府办公室（督查科、政务公开办）`` → ``区政府办公室``) or a second
  name of the same unit (``区经委（区商务委）``): the outer name is resolved first, then the inner.
* trailing ``等``/``等部门``/``等单位``/``等相关单位`` after named units is dropped.
* ``相关单位``/``各相关单位``/``有关单位``/``相关部门``/``相关街镇``/``区政府各相关部门`` and
  ``文件起草单位`` name nobody: a warning ``「相关单位」未指明具体单位，请管理员指派`` asks the
  administrator to assign; ``nobody`` is True when nobody at all must do the task.
* near misses — an unknown name close to a canonical name, an alias or a group name of the
  directory (or one of the group phrases above whose kind has units) gets that name in
  ``suggestions``: a typo (``各区属国有企企`` → ``各区属国有企业``), an extra or missing
  ``区`` / ``局`` / ``委`` / ``办`` (``区教育`` → ``区教育局``).  See
  :func:`zwgk.intake.plan.unitsuggest.suggest_name`.

Precedence: lead > responsible > cooperating — a lead is never also listed as cooperating,
and a responsible unit is not cooperating either.  All lists follow directory order.

The parser is in four parts besides this module: the words and patterns (``unitwords``), the
splitting of a cell into names (``unitsplit``), the resolution of one name against the directory
(``unitresolve``, which also holds :class:`DirectoryEntry`) and the near misses (``unitsuggest``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from zwgk.intake.plan.unitresolve import Directory, DirectoryEntry
from zwgk.intake.plan.unitsplit import clauses, depths, items, prepare, segment
from zwgk.intake.plan.unitsuggest import MAX_SUGGESTIONS, NearMisses
from zwgk.intake.plan.unitwords import COOPERATING, ITEM_ROLE_RE, LEAD, RESPONSIBLE, ROLE_WORDS

__all__ = ["UnitAssignment", "parse_units"]


@dataclass(frozen=True)
class UnitAssignment:
    """Roles named by one 责任单位 cell, as canonical directory names."""

    lead_units: tuple[str, ...]  # 牵头单位, directory order
    units: tuple[str, ...]  # everyone who must do it (leads + responsible), no duplicates
    cooperating_units: tuple[str, ...]  # 配合单位, none of them in ``units``
    unknown: tuple[str, ...]  # names not resolvable in the directory (the caller reports them)
    nobody: bool  # the phrase names only 相关单位/各相关单位/有关单位 etc.
    warnings: tuple[str, ...]  # Chinese, user-facing
    # (unknown name, closest directory name) for the unknown names that are near misses
    suggestions: tuple[tuple[str, str], ...] = ()


def parse_units(text: str, directory: Sequence[DirectoryEntry]) -> UnitAssignment:
    """Parse a 责任单位 cell into lead/responsible/cooperating units (see the module docstring).

    Never raises: names the directory does not know are returned in ``unknown``.  ``nobody``
    is True when no unit at all must do the task and the phrase only says 相关单位 or the like
    (or the cell is empty); the warnings then ask the administrator to assign someone.
    """
    d = Directory(directory)
    near_misses = NearMisses(d)
    s, breaks = prepare(text)
    warnings: list[str] = []
    if not s:
        return UnitAssignment((), (), (), (), True, ("未填写责任单位，请管理员指派",))
    depth = depths(s)
    named: dict[str, list[DirectoryEntry]] = {LEAD: [], RESPONSIBLE: [], COOPERATING: []}
    unknown: list[str] = []
    nobody_phrases: list[str] = []

    for start, end, clause_role, suffix in clauses(s, depth):
        for a, b in items(s, depth, start, end):
            role = clause_role or RESPONSIBLE
            before_role = bool(suffix) and b == end
            m = ITEM_ROLE_RE.search(s, a, b)
            if m and m.end() == b and depth[m.start()] == 1:
                role = ROLE_WORDS[m.group("word")]
                before_role = False
                b = m.start()
            for name, r in segment(d, near_misses, s, depth, breaks, a, b, before_role=before_role):
                if not r.known:
                    if name and name not in unknown:
                        unknown.append(name)
                    continue
                warnings += [w for w in r.warnings if w not in warnings]
                if r.nobody:
                    # 相关责任单位: name the phrase as written, not 「相关」.
                    phrase = r.nobody + (suffix if before_role and len(suffix) > 2 else "")
                    if phrase not in nobody_phrases:
                        nobody_phrases.append(phrase)
                    continue
                named[role] += [e for e in r.entries if e not in named[role]]

    # No 牵头 named: no lead; the units named are responsible (a list of 40 units is not 40
    # leads, and a lead is who coordinates and hears about the others being late).
    lead_names = {e.name for e in named[LEAD]}
    unit_names = lead_names | {e.name for e in named[RESPONSIBLE]}
    coop_names = {e.name for e in named[COOPERATING]} - unit_names

    def ordered(names: set[str]) -> tuple[str, ...]:
        return tuple(sorted(names, key=lambda n: d.order.get(n, len(d.order))))

    for phrase in nobody_phrases:
        warnings.append(f"「{phrase}」未指明具体单位，请管理员指派")
    nobody = bool(nobody_phrases) and not unit_names and not unknown
    suggestions = tuple(
        (name, suggestion)
        for name in unknown[:MAX_SUGGESTIONS]
        if (suggestion := near_misses.suggest(name)) is not None
    )
    return UnitAssignment(
        lead_units=ordered(lead_names),
        units=ordered(unit_names),
        cooperating_units=ordered(coop_names),
        unknown=tuple(unknown),
        nobody=nobody,
        warnings=tuple(warnings),
        suggestions=suggestions,
    )
