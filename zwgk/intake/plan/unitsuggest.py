"""Near misses: the directory name an unknown name in a 责任单位 cell most likely misspells.

:func:`suggest_name` for one name; :class:`NearMisses` keeps the candidate names and the answers
of one directory across the names of a cell.
"""

from __future__ import annotations

from collections.abc import Sequence
from difflib import SequenceMatcher

from zwgk.intake.plan.unitresolve import Directory, DirectoryEntry
from zwgk.intake.plan.unitwords import (
    DISTRICT_PREFIX_RE,
    GROUP_PHRASES,
    GROUP_PREFIX_RE,
    group_key,
    norm,
)

__all__ = ["MAX_SUGGESTIONS", "SUGGEST_RATIO", "NearMisses", "suggest_name"]

# How alike an unknown name and a directory name must be for the one to be suggested for the
# other (difflib's ratio, 2 × matching characters / both lengths).  0.8 takes one missing or
# extra character in any name (区教育 → 区教育局) and one wrong character in a name of five or
# more (各区属国有企企 → 各区属国有企业, 区市场监督局 → 区市场监管局), but not one wrong
# character in four: 区统计局 is not a typo of 区审计局.
SUGGEST_RATIO = 0.8
_MAX_SUGGEST_LEN = 40  # longer "names" are sentences, not typos
MAX_SUGGESTIONS = 50  # per cell: a pasted paragraph stays fast


def _core(name: str) -> str:
    """A name without the affixes a near miss may add or drop: a district prefix, ``各``,
    a leading ``区``, a trailing ``局``/``委``/``办``; ``人民政府`` read as ``政府``."""
    n = name.replace("人民政府", "政府")
    m = DISTRICT_PREFIX_RE.match(n)
    if m:
        n = n[m.end() :]
    n = GROUP_PREFIX_RE.sub("", n)
    if len(n) > 1 and n.startswith("区"):
        n = n[1:]
    if len(n) > 1 and n.endswith(("局", "委", "办")):
        n = n[:-1]
    return n


class NearMisses:
    """Suggestions against one directory, remembered per name."""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory
        self._candidates: list[tuple[str, str, str, str]] | None = None
        self._suggested: dict[str, str | None] = {}

    def candidates(self) -> list[tuple[str, str, str, str]]:
        """``(key, core, shown, target)`` for every name a near miss may be suggested for:
        canonical names first, then aliases, directory groups and the built-in group phrases
        that have members.  ``target`` says what the name stands for (ties between names of
        one target are no ambiguity)."""
        if self._candidates is None:
            entries = self.directory.entries
            named: list[tuple[str, str]] = [(e.name, "unit:" + e.name) for e in entries]
            named += [(a, "unit:" + e.name) for e in entries for a in e.aliases]
            named += [(g, "group:" + group_key(norm(g))) for e in entries for g in e.groups]
            named += [
                (phrase, "kinds:" + ",".join(kinds))
                for phrase, kinds in GROUP_PHRASES.items()
                if self.directory.kinds(kinds)
            ]
            seen: set[str] = set()
            self._candidates = []
            for shown, target in named:
                key = norm(shown)
                if key and key not in seen:
                    seen.add(key)
                    self._candidates.append((key, _core(key), shown, target))
        return self._candidates

    def suggest(self, name: str) -> str | None:
        """The directory name ``name`` most likely misspells, or None (see :func:`suggest_name`)."""
        u = norm(name)
        if not u or len(u) > _MAX_SUGGEST_LEN:
            return None
        if u not in self._suggested:
            self._suggested[u] = self._closest(u)
        return self._suggested[u]

    def _closest(self, u: str) -> str | None:
        variants = list(dict.fromkeys(self.directory.variants(u)))
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


def suggest_name(name: str, directory: Sequence[DirectoryEntry]) -> str | None:
    """The directory name (canonical, alias or group) that ``name`` is a near miss of, or None.

    Close enough: the two differ only by a ``区`` prefix, a ``局``/``委``/``办`` suffix, a
    district prefix or ``各`` (``区教育`` → ``区教育局``), or their difflib ratio is at least
    ``SUGGEST_RATIO`` (``各区属国有企企`` → ``各区属国有企业``).  An affix-only difference beats a
    closer ratio; two different units equally close give no suggestion.
    """
    return NearMisses(Directory(directory)).suggest(name)
