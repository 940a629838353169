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
  ``区`` / ``局`` / ``委`` / ``办`` (``区教育`` → ``区教育局``).  See :func:`suggest_name`.

Precedence: lead > responsible > cooperating — a lead is never also listed as cooperating,
and a responsible unit is not cooperating either.  All lists follow directory order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher

__all__ = ["DirectoryEntry", "UnitAssignment", "parse_units", "suggest_name"]

KIND_OFFICE, KIND_DEPARTMENT, KIND_STREET, KIND_TOWN, KIND_PARK = (
    "office",
    "department",
    "street",
    "town",
    "park",
)


@dataclass(frozen=True)
class DirectoryEntry:
    """One unit of the directory (单位名录) as the phrase parser sees it."""

    name: str  # canonical, e.g. "区政府办公室"
    aliases: tuple[str, ...] = ()  # e.g. ("区政府办", "区人民政府办公室")
    kind: str = KIND_DEPARTMENT  # office | department | street | town | park
    groups: tuple[str, ...] = ()  # extra group names beyond the kind's


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


# --- roles ---------------------------------------------------------------------------------

LEAD, RESPONSIBLE, COOPERATING = "lead", "responsible", "cooperating"

_ROLE_WORDS: dict[str, str] = {
    "牵头": LEAD,
    "主责": RESPONSIBLE,
    "责任": RESPONSIBLE,
    "负责": RESPONSIBLE,
    "落实": RESPONSIBLE,
    "主办": RESPONSIBLE,
    "承办": RESPONSIBLE,
    "配合": COOPERATING,
    "协办": COOPERATING,
    "协助": COOPERATING,
    "参与": COOPERATING,
}
# A label ("牵头单位：") is tried before a suffix marker ("…牵头") at the same position; a
# suffix at the end of a clause may carry its noun ("…等集成式发布工作牵头单位", "…责任单位").
_CLAUSE_END = r"(?=$|[、，；/。])"
_MARKER_RE = re.compile(
    r"(?P<label>(?:牵头|主责|责任|负责|落实|主办|承办|配合|协办|协助|参与)(?:单位|部门)?：)"
    r"|(?P<suffix>(?:牵头|主责|责任|负责|落实|主办|承办|配合|协办|协助|参与)(?:单位|部门)"
    + _CLAUSE_END
    + r"|牵头|负责|落实|配合|协办|协助|参与)"
)
_ITEM_ROLE_RE = re.compile(r"（(?P<word>牵头|负责|落实|配合|协办|协助|参与)(?:单位)?）$")

# --- normalisation -------------------------------------------------------------------------

_TRANSLATE = str.maketrans(
    {
        **{chr(0xFF10 + i): str(i) for i in range(10)},
        "(": "（",
        ")": "）",
        ":": "：",
        ",": "，",
        ";": "；",
        "【": "（",
        "】": "）",
    }
)
# Group phrases whose own 、 must not split them; rewritten before anything else.
_PRE_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"各\s*委\s*[、，]?\s*办\s*[、，]?\s*局"), "各委办局"),
    (
        re.compile(
            r"各\s*街\s*道\s*(?:办\s*事\s*处)?\s*[、，和及与]\s*(?:各\s*)?镇(?:\s*人\s*民)?(?:\s*政\s*府)?"
        ),
        "各街镇",
    ),
    (
        re.compile(
            r"各\s*镇\s*(?:人\s*民)?\s*(?:政\s*府)?\s*[、，和及与]\s*(?:各\s*)?街\s*道(?:\s*办\s*事\s*处)?"
        ),
        "各街镇",
    ),
)
_WS_RE = re.compile(r"\s+")
_STRONG_SEPARATORS = "、，；/"
_WEAK_SEPARATORS = "和及与等"


def _norm(name: str) -> str:
    """Directory-side key: no whitespace, full-width brackets and colon."""
    return _WS_RE.sub("", name.translate(_TRANSLATE))


# --- group phrases -------------------------------------------------------------------------

_ALL = "*"
_KIND_GROUPS: dict[str, tuple[str, ...]] = {}
for _phrases, _kinds in (
    (
        (
            "区政府各部门",
            "各部门",
            "各委办局",
            "区政府各委办局",
            "区级各部门",
            "区各部门",
            "各区级部门",
            "区政府各职能部门",
            "各职能部门",
            "区直各部门",
            "区政府部门",
            "区级部门",
            "各委办",
            "区政府各委办",
        ),
        (KIND_DEPARTMENT,),
    ),
    (
        (
            "各街道（镇）",
            "各街镇",
            "各街道镇",
            "街镇",
            "全区各街镇",
            "各街道（镇）政府",
        ),
        (KIND_STREET, KIND_TOWN),
    ),
    (("各街道", "各街道办事处", "各街道办"), (KIND_STREET,)),
    (("各镇", "各镇政府", "各镇人民政府"), (KIND_TOWN,)),
    (("园区", "各园区", "全区各园区"), (KIND_PARK,)),
    (("各单位", "全区各单位", "区各单位", "各级各单位", "区级各单位"), (_ALL,)),
):
    for _p in _phrases:
        _KIND_GROUPS[_p] = _kinds

# Phrases naming nobody in particular: 相关单位, 各有关单位, 区政府各相关部门, 相关街镇, 属地街镇…
_NOBODY_RE = re.compile(r"^(?:区政府|区级|区|全区)?(?:各|其他|其它)?(?:相关|有关|属地)")
_NOBODY_PHRASES = {
    "文件起草单位",
    "起草单位",
    "文件制定（起草）单位",
    "文件制定单位",
    "文件起草部门",
    "起草部门",
    "制文单位",
    "发文单位",
}
_TRAILING_DENG_RE = re.compile(
    r"等(?:\d+个|[一二三四五六七八九十两]+个)?(?:相关|有关|其他|其它)?"
    r"(?:单位|部门|委办局|街镇|职能部门|成员单位|区级部门)?$"
)
_GROUP_PREFIX_RE = re.compile(r"^(?:全区|区政府|区级|区)?各")
# A 等 tail with no role word that still reads as a description of units: 等行业主管部门.
_DESCRIPTIVE_NOUN_RE = re.compile(r"(?:单位|部门|机构)$")
_DISTRICT_PREFIX_RE = re.compile(r"^(?:上海市)?[\u4e00-\u9fff]{1,3}区(?=[\u4e00-\u9fff]{2})")
_PAREN_RE = re.compile(r"^(?P<outer>[^（）]+)（(?P<inner>[^（）]*)）(?P<rest>[^（）]*)$")


def _group_key(phrase: str) -> str:
    return _GROUP_PREFIX_RE.sub("", phrase)


# --- near misses ---------------------------------------------------------------------------

# How alike an unknown name and a directory name must be for the one to be suggested for the
# other (difflib's ratio, 2 × matching characters / both lengths).  0.8 takes one missing or
# extra character in any name (区教育 → 区教育局) and one wrong character in a name of five or
# more (各区属国有企企 → 各区属国有企业, 区市场监督局 → 区市场监管局), but not one wrong
# character in four: 区统计局 is not a typo of 区审计局.
SUGGEST_RATIO = 0.8
_MAX_SUGGEST_LEN = 40  # longer "names" are sentences, not typos
_MAX_SUGGESTIONS = 50  # per cell: a pasted paragraph stays fast


def _core(name: str) -> str:
    """A name without the affixes a near miss may add or drop: a district prefix, ``各``,
    a leading ``区``, a trailing ``局``/``委``/``办``; ``人民政府`` read as ``政府``."""
    n = name.replace("人民政府", "政府")
    m = _DISTRICT_PREFIX_RE.match(n)
    if m:
        n = n[m.end() :]
    n = _GROUP_PREFIX_RE.sub("", n)
    if len(n) > 1 and n.startswith("区"):
        n = n[1:]
    if len(n) > 1 and n.endswith(("局", "委", "办")):
        n = n[:-1]
    return n


# --- resolution ----------------------------------------------------------------------------


@dataclass
class _Resolved:
    """What one name (or group phrase) stands for."""

    entries: list[DirectoryEntry] = field(default_factory=list)
    known: bool = True  # False: nothing in the directory matches
    nobody: str = ""  # the 相关单位-like phrase, when it names nobody
    warnings: list[str] = field(default_factory=list)


class _Directory:
    """Lookup tables over the directory entries."""

    def __init__(self, entries: Sequence[DirectoryEntry]) -> None:
        self.entries = list(entries)
        self.order = {e.name: i for i, e in enumerate(self.entries)}
        self.by_name: dict[str, DirectoryEntry] = {}
        for e in self.entries:  # canonical names win over aliases
            self.by_name.setdefault(_norm(e.name), e)
        for e in self.entries:
            for a in e.aliases:
                self.by_name.setdefault(_norm(a), e)
        self.by_group: dict[str, list[DirectoryEntry]] = {}
        for e in self.entries:
            for g in e.groups:
                for key in {_norm(g), _group_key(_norm(g))}:
                    members = self.by_group.setdefault(key, [])
                    if e not in members:
                        members.append(e)
        self._candidates: list[tuple[str, str, str, str]] | None = None
        self._suggested: dict[str, str | None] = {}

    def candidates(self) -> list[tuple[str, str, str, str]]:
        """``(key, core, shown, target)`` for every name a near miss may be suggested for:
        canonical names first, then aliases, directory groups and the built-in group phrases
        that have members.  ``target`` says what the name stands for (ties between names of
        one target are no ambiguity)."""
        if self._candidates is None:
            named: list[tuple[str, str]] = [(e.name, "unit:" + e.name) for e in self.entries]
            named += [(a, "unit:" + e.name) for e in self.entries for a in e.aliases]
            named += [(g, "group:" + _group_key(_norm(g))) for e in self.entries for g in e.groups]
            named += [
                (phrase, "kinds:" + ",".join(kinds))
                for phrase, kinds in _KIND_GROUPS.items()
                if self.kinds(kinds)
            ]
            seen: set[str] = set()
            self._candidates = []
            for shown, target in named:
                key = _norm(shown)
                if key and key not in seen:
                    seen.add(key)
                    self._candidates.append((key, _core(key), shown, target))
        return self._candidates

    def suggest(self, name: str) -> str | None:
        """The directory name ``name`` most likely misspells, or None (see :func:`suggest_name`)."""
        u = _norm(name)
        if not u or len(u) > _MAX_SUGGEST_LEN:
            return None
        if u not in self._suggested:
            self._suggested[u] = self._closest(u)
        return self._suggested[u]

    def _closest(self, u: str) -> str | None:
        variants = list(dict.fromkeys(self._variants(u)))
        core = _core(u)
        best: tuple[bool, float] = (False, SUGGEST_RATIO)
        found: list[tuple[str, str]] = []  # (shown, target) scoring ``best``
        for key, key_core, shown, target in self.candidates():
            if key in variants:
                continue  # the name itself (unreachable for another reason): no near miss
            affix = bool(core) and key_core == core
            ratio = 0.0
            for v in variants:
                sm = SequenceMatcher(None, v, key, autojunk=False)
                if sm.real_quick_ratio() >= SUGGEST_RATIO and sm.quick_ratio() >= SUGGEST_RATIO:
                    ratio = max(ratio, sm.ratio())
            if not affix and ratio < SUGGEST_RATIO:
                continue
            score = (affix, ratio)
            if score > best:
                best, found = score, [(shown, target)]
            elif score == best:
                found.append((shown, target))
        if not found or len({target for _, target in found}) > 1:
            return None  # nothing close, or two different units equally close
        return found[0][0]

    def unit(self, name: str) -> DirectoryEntry | None:
        """A single unit by name/alias, trying the usual variants of the spelling."""
        for variant in self._variants(name):
            e = self.by_name.get(variant)
            if e is not None:
                return e
        return None

    @staticmethod
    def _variants(name: str) -> Iterable[str]:
        seen: set[str] = set()
        bases = [name, name.replace("人民政府", "政府")]
        if "和" in name:  # 区人力资源和社会保障局 → 区人力资源社会保障局
            bases.append(name.replace("和", ""))
        m = _DISTRICT_PREFIX_RE.match(name)
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
        if _ALL in kinds:
            return list(self.entries)
        return [e for e in self.entries if e.kind in kinds]

    def group(self, phrase: str) -> list[DirectoryEntry] | None:
        for key in (phrase, _group_key(phrase)):
            if key in self.by_group:
                return list(self.by_group[key])
        return None

    def resolve(self, name: str, *, depth: int = 0) -> _Resolved:
        """Resolve one name/group phrase (no separators at bracket depth 0, no whitespace)."""
        name = name.strip("、，；/ ")
        if name.startswith("由") and len(name) > 2:
            name = name[1:]
        stripped = _TRAILING_DENG_RE.sub("", name)
        if stripped and stripped != name:
            name = stripped
        if not name:
            return _Resolved()
        e = self.by_name.get(name)
        if e is not None:
            return _Resolved([e])
        if name in _KIND_GROUPS:
            members = self.kinds(_KIND_GROUPS[name])
            warnings = [] if members else [f"「{name}」在单位名录中没有对应单位"]
            return _Resolved(members, warnings=warnings)
        members_or_none = self.group(name)
        if members_or_none is not None:
            return _Resolved(members_or_none)
        if name in _NOBODY_PHRASES or _NOBODY_RE.match(name):
            return _Resolved(nobody=name)
        e = self.unit(name)
        if e is not None:
            return _Resolved([e])
        m = _PAREN_RE.match(name)
        if m and depth < 3:
            return self._resolve_bracketed(name, m, depth)
        return _Resolved(known=False)

    def _resolve_bracketed(self, name: str, m: re.Match[str], depth: int) -> _Resolved:
        """``外名（内名）``: a sub-office or a second name of the outer unit; outer first."""
        outer, inner, rest = m.group("outer"), m.group("inner"), m.group("rest")
        if rest:  # 文件制定（起草）单位: try without the bracket, then with the inner words
            for candidate in (outer + rest, inner + rest):
                r = self.resolve(candidate, depth=depth + 1)
                if r.known:
                    return r
            return _Resolved(known=False)
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
        return _Resolved(known=False)

    def _resolve_inner(self, inner: str, depth: int) -> _Resolved | None:
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
        return _Resolved(found) if found else _Resolved(known=False)


# --- splitting -----------------------------------------------------------------------------


def _prepare(text: str) -> tuple[str, set[int]]:
    """Normalise; return the text without whitespace and where whitespace used to be."""
    t = (text or "").translate(_TRANSLATE)
    for pattern, repl in _PRE_REWRITES:
        t = pattern.sub(repl, t)
    chars: list[str] = []
    breaks: set[int] = set()
    pending = False
    for ch in t:
        if ch.isspace():
            pending = True
            continue
        if pending and chars:
            breaks.add(len(chars))
        pending = False
        chars.append(ch)
    return "".join(chars), breaks


def _depths(s: str) -> list[int]:
    out, d = [], 0
    for ch in s:
        if ch == "（":
            d += 1
            out.append(d)
        elif ch == "）":
            out.append(d)
            d = max(0, d - 1)
        else:
            out.append(d)
    return out


def _clauses(s: str, depth: list[int]) -> list[tuple[int, int, str | None, str]]:
    """``(start, end, role, suffix)`` spans: labels set the role of what follows, suffixes
    of what precedes (``suffix``: the role word the span ends at, such as ``牵头单位``)."""
    out: list[tuple[int, int, str | None, str]] = []
    label: str | None = None
    pos = 0
    for m in _MARKER_RE.finditer(s):
        if depth[m.start()] > 0:
            continue
        if m.group("label"):
            if m.start() > pos:
                out.append((pos, m.start(), label, ""))
            label = _ROLE_WORDS[m.group("label")[:2]]
        else:
            out.append((pos, m.start(), _ROLE_WORDS[m.group("suffix")[:2]], m.group("suffix")))
        pos = m.end()
    if pos < len(s):
        out.append((pos, len(s), label, ""))
    return out


def _items(s: str, depth: list[int], start: int, end: int) -> list[tuple[int, int]]:
    """Spans between strong separators (、，；/) at bracket depth 0."""
    out: list[tuple[int, int]] = []
    a = start
    for i in range(start, end):
        if depth[i] == 0 and s[i] in _STRONG_SEPARATORS:
            if i > a:
                out.append((a, i))
            a = i + 1
    if end > a:
        out.append((a, end))
    return out


# The most pieces (split at line breaks, spaces, 和/及/与/等) one unit's name is made of:
# ``区人力资源和社会保障局`` is two, a name broken over three PDF lines three.
_MAX_SPAN = 6


def _segment(
    directory: _Directory,
    s: str,
    depth: list[int],
    breaks: set[int],
    a: int,
    b: int,
    *,
    before_role: bool = False,
) -> list[tuple[str, _Resolved]]:
    """Best split of one item at line breaks/spaces and 和/及/与/等 (fewest unknown names).

    ``区政府各部\\n门`` stays whole (a PDF line break inside a name), ``区科委 区商务委`` splits,
    ``区人力资源和社会保障局`` stays whole when the directory knows it, ``区教育局和区民政局`` splits.
    Words after the last ``等`` that resolve to nothing describe the listed units and are
    dropped when a role word follows (``before_role``: ``…等集成式发布工作``|``牵头单位``) or
    they end in 单位/部门/机构 (``…等行业主管部门``) — unless they are a near miss of a
    directory name, which is reported.
    """
    # Trailing 等部门/等相关单位 after named units is dropped first (it must not split off).
    m = _TRAILING_DENG_RE.search(s, a, b)
    if m and m.start() > a and depth[m.start()] == 0:
        b = m.start()
    # pieces[k] = (text, glue before the next piece)
    pieces: list[tuple[str, str]] = []
    cur = a
    for i in range(a, b):
        if i > a and i in breaks and depth[i] == 0:
            pieces.append((s[cur:i], ""))
            cur = i
        if depth[i] == 0 and s[i] in _WEAK_SEPARATORS and i > cur:
            pieces.append((s[cur:i], s[i]))
            cur = i + 1
    pieces.append((s[cur:b], ""))
    pieces = [p for p in pieces if p[0]] or [("", "")]
    n = len(pieces)

    def joined(i: int, j: int) -> str:
        text = ""
        for k in range(i, j):
            text += pieces[k][0] + (pieces[k][1] if k < j - 1 else "")
        return text

    cache: dict[tuple[int, int], _Resolved] = {}

    def res(i: int, j: int) -> _Resolved:
        if (i, j) not in cache:
            cache[(i, j)] = directory.resolve(joined(i, j))
        return cache[(i, j)]

    # best[i] = (cost, split points) for pieces[i:]; cost = (unknown, -resolved, segments).
    # A name spans at most _MAX_SPAN pieces, which keeps a pasted paragraph linear.
    best: list[tuple[tuple[int, int, int], list[int]]] = [((0, 0, 0), [])] * (n + 1)
    for i in range(n - 1, -1, -1):
        options = []
        for j in range(i + 1, min(n, i + _MAX_SPAN) + 1):
            r = res(i, j)
            (u, neg_r, segs), splits = best[j]
            cost = (u + (0 if r.known else 1), neg_r - (1 if r.known else 0), segs + 1)
            options.append((cost, [j, *splits]))
        best[i] = min(options, key=lambda o: o[0])
    spans: list[tuple[int, int]] = []
    i = 0
    for j in best[0][1]:
        spans.append((i, j))
        i = j
    # The descriptive tail after the last 等 (see the docstring).
    after_deng = [k + 1 for k in range(n - 1) if pieces[k][1] == "等"]
    if after_deng and any(i == after_deng[-1] for i, _ in spans):
        k = after_deng[-1]
        tail = [(i, j) for i, j in spans if i >= k]
        if (
            (before_role or _DESCRIPTIVE_NOUN_RE.search(joined(k, n)))
            and not any(res(i, j).known for i, j in tail)
            and not any(directory.suggest(joined(i, j)) for i, j in tail)
        ):
            spans = [(i, j) for i, j in spans if i < k]
    out: list[tuple[str, _Resolved]] = []
    for i, j in spans:
        text = _TRAILING_DENG_RE.sub("", joined(i, j)) or joined(i, j)
        out.append((text, res(i, j)))
    return out


# --- the parser ----------------------------------------------------------------------------


def parse_units(text: str, directory: Sequence[DirectoryEntry]) -> UnitAssignment:
    """Parse a 责任单位 cell into lead/responsible/cooperating units (see the module docstring).

    Never raises: names the directory does not know are returned in ``unknown``.  ``nobody``
    is True when no unit at all must do the task and the phrase only says 相关单位 or the like
    (or the cell is empty); the warnings then ask the administrator to assign someone.
    """
    d = _Directory(directory)
    s, breaks = _prepare(text)
    warnings: list[str] = []
    if not s:
        return UnitAssignment((), (), (), (), True, ("未填写责任单位，请管理员指派",))
    depth = _depths(s)
    named: dict[str, list[DirectoryEntry]] = {LEAD: [], RESPONSIBLE: [], COOPERATING: []}
    unknown: list[str] = []
    nobody_phrases: list[str] = []

    for start, end, clause_role, suffix in _clauses(s, depth):
        for a, b in _items(s, depth, start, end):
            role = clause_role or RESPONSIBLE
            before_role = bool(suffix) and b == end
            m = _ITEM_ROLE_RE.search(s, a, b)
            if m and m.end() == b and depth[m.start()] == 1:
                role = _ROLE_WORDS[m.group("word")]
                before_role = False
                b = m.start()
            for name, r in _segment(d, s, depth, breaks, a, b, before_role=before_role):
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
        for name in unknown[:_MAX_SUGGESTIONS]
        if (suggestion := d.suggest(name)) is not None
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


def suggest_name(name: str, directory: Sequence[DirectoryEntry]) -> str | None:
    """The directory name (canonical, alias or group) that ``name`` is a near miss of, or None.

    Close enough: the two differ only by a ``区`` prefix, a ``局``/``委``/``办`` suffix, a
    district prefix or ``各`` (``区教育`` → ``区教育局``), or their difflib ratio is at least
    ``SUGGEST_RATIO`` (``各区属国有企企`` → ``各区属国有企业``).  An affix-only difference beats a
    closer ratio; two different units equally close give no suggestion.
    """
    return _Directory(directory).suggest(name)
