"""Split a 责任单位 cell into clauses, items and names (the tokenizer of the phrase parser).

:func:`prepare` normalises the cell and remembers where whitespace was; :func:`clauses` cuts it
at role markers, :func:`items` at strong separators, and :func:`segment` finds the best split of
one item into names the directory knows.  The grammar is described in
:mod:`zwgk.intake.plan.unitphrases`.
"""

from __future__ import annotations

from zwgk.intake.plan.unitresolve import Directory, Resolved
from zwgk.intake.plan.unitsuggest import NearMisses
from zwgk.intake.plan.unitwords import (
    DESCRIPTIVE_NOUN_RE,
    MARKER_RE,
    PRE_REWRITES,
    ROLE_WORDS,
    STRONG_SEPARATORS,
    TRAILING_DENG_RE,
    TRANSLATE,
    WEAK_SEPARATORS,
)

__all__ = ["clauses", "depths", "items", "prepare", "segment"]


def prepare(text: str) -> tuple[str, set[int]]:
    """Normalise; return the text without whitespace and where whitespace used to be."""
    t = (text or "").translate(TRANSLATE)
    for pattern, repl in PRE_REWRITES:
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


def depths(s: str) -> list[int]:
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


def clauses(s: str, depth: list[int]) -> list[tuple[int, int, str | None, str]]:
    """``(start, end, role, suffix)`` spans: labels set the role of what follows, suffixes
    of what precedes (``suffix``: the role word the span ends at, such as ``牵头单位``)."""
    out: list[tuple[int, int, str | None, str]] = []
    label: str | None = None
    pos = 0
    for m in MARKER_RE.finditer(s):
        if depth[m.start()] > 0:
            continue
        if m.group("label"):
            if m.start() > pos:
                out.append((pos, m.start(), label, ""))
            label = ROLE_WORDS[m.group("label")[:2]]
        else:
            out.append((pos, m.start(), ROLE_WORDS[m.group("suffix")[:2]], m.group("suffix")))
        pos = m.end()
    if pos < len(s):
        out.append((pos, len(s), label, ""))
    return out


def items(s: str, depth: list[int], start: int, end: int) -> list[tuple[int, int]]:
    """Spans between strong separators (、，；/) at bracket depth 0."""
    out: list[tuple[int, int]] = []
    a = start
    for i in range(start, end):
        if depth[i] == 0 and s[i] in STRONG_SEPARATORS:
            if i > a:
                out.append((a, i))
            a = i + 1
    if end > a:
        out.append((a, end))
    return out


# The most pieces (split at line breaks, spaces, 和/及/与/等) one unit's name is made of:
# ``区人力资源和社会保障局`` is two, a name broken over three PDF lines three.
_MAX_SPAN = 6


def segment(
    directory: Directory,
    near_misses: NearMisses,
    s: str,
    depth: list[int],
    breaks: set[int],
    a: int,
    b: int,
    *,
    before_role: bool = False,
) -> list[tuple[str, Resolved]]:
    """Best split of one item at line breaks/spaces and 和/及/与/等 (fewest unknown names).

    ``区政府各部\\n门`` stays whole (a PDF line break inside a name), ``区科委 区商务委`` splits,
    ``区人力资源和社会保障局`` stays whole when the directory knows it, ``区教育局和区民政局`` splits.
    Words after the last ``等`` that resolve to nothing describe the listed units and are
    dropped when a role word follows (``before_role``: ``…等集成式发布工作``|``牵头单位``) or
    they end in 单位/部门/机构 (``…等行业主管部门``) — unless they are a near miss of a
    directory name, which is reported.
    """
    # Trailing 等部门/等相关单位 after named units is dropped first (it must not split off).
    m = TRAILING_DENG_RE.search(s, a, b)
    if m and m.start() > a and depth[m.start()] == 0:
        b = m.start()
    # pieces[k] = (text, glue before the next piece)
    pieces: list[tuple[str, str]] = []
    cur = a
    for i in range(a, b):
        if i > a and i in breaks and depth[i] == 0:
            pieces.append((s[cur:i], ""))
            cur = i
        if depth[i] == 0 and s[i] in WEAK_SEPARATORS and i > cur:
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

    cache: dict[tuple[int, int], Resolved] = {}

    def res(i: int, j: int) -> Resolved:
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
            (before_role or DESCRIPTIVE_NOUN_RE.search(joined(k, n)))
            and not any(res(i, j).known for i, j in tail)
            and not any(near_misses.suggest(joined(i, j)) for i, j in tail)
        ):
            spans = [(i, j) for i, j in spans if i < k]
    out: list[tuple[str, Resolved]] = []
    for i, j in spans:
        text = TRAILING_DENG_RE.sub("", joined(i, j)) or joined(i, j)
        out.append((text, res(i, j)))
    return out
