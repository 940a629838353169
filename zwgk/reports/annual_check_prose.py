"""The numbers stated in an annual report's prose (section 一, 总体情况) against its tables.

Offices edit the drafted report and type the figures of section 一 in their own words; a
reviewer reads them against tables 三 and 四. The standard phrasings seen in published reports
(seed 003, 长宁区 2024; 平潭综合实验区 2021–2024) are recognised, whitespace ignored:

* requests received: 「共受理/收到/接收…（政府）信息公开申请（共计）N件」, 「共收到N件申请」;
  by applicant: 「自然人（申请）N件」, 「法人或其他组织N件」, 「商业企业N件」…;
* handled: 「答复/办结/办理（答复）…政府信息公开申请N件」, 「办结N件」;
* carried over: 「（含）上年（度）结转N件」 (also the typo 转结), 「结转下年度（继续）（办理）N件」,
  「N件结转下年度」, 「N件…顺延至下年度」, 「结转至<Y+1>年N件」;
* outcomes: 「予以公开及部分公开 / 予以公开 / 部分公开 / 不予公开 / 无法提供 / 不予处理 / 其他处理
  N件」 with an optional 「占X%」 (a share of （七）总计);
* reviews and lawsuits: 「行政复议（案件）N件/起」, 「行政诉讼（案件）N件/起」, 「结果纠正N件」 (of
  the one named last), 「未发生…行政复议/行政诉讼」;
* the change: 「申请数量较<Y-1>年上升/下降X%（<Y-1>年为N件）」.

A sentence or parenthesis that begins with another year (「（2023年分别为行政复议40件…）」)
speaks of that year: last year's figures are read against last year's tables when they are
loaded, and noted as not checked when not. Anything else with a number (「其中申请人主动撤销
153件」, 主动公开 counts) is not a claim about tables 三/四 and is left alone. Only the text
before section 二 is read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from models.annual import (
    APPLICANT_TYPES,
    CARRIED_IN,
    CARRIED_OUT,
    NEW,
    OUTCOME_GROUPS,
    TOTAL,
    cell_label,
)
from zwgk.reports.annual import AnnualReport
from zwgk.reports.annual_check import Table, _n

N = r"(\d+)"
GROUPS = ("予以公开", "部分公开", "不予公开", "无法提供", "不予处理", "其他处理")
SHOWN = "予以公开及部分公开"
# Alternatives are tried left to right at each position; finditer takes the leftmost match,
# so 「结转下年度继续办理42件」 is a carry-over before 「办理42件」 could be read as handled.
PATTERNS: tuple[tuple[str, str], ...] = (
    ("carried_in", rf"(?:含)?上年度?(?:结转|转结)(?:的?申请)?{N}件"),
    ("carried_out", rf"结转(?:至)?下一?年度?(?:继续)?(?:办理)?{N}件"),
    ("carried_out", rf"{N}件(?:申请)?(?:结转|顺延)(?:至|到)?下一?年度?"),
    ("carried_out_year", rf"结转至(\d{{4}})年{N}件"),
    (
        "new",
        rf"(?:受理|收到|新收|接收|接到)[^，,；;。件\d]{{0,20}}?(?:政府)?信息公开申请(?:共计|共|合计)?{N}件",
    ),
    ("new", rf"(?:受理|收到|新收|接收|接到){N}件(?:政府信息公开)?申请"),
    (
        "handled",
        r"(?:办理答复|答复|办结|办理)(?:[^，,；;。件\d]{0,12}?(?:政府信息公开申请|依申请公开|申请))?"
        rf"(?:共计|共)?{N}件",
    ),
    ("group", rf"({SHOWN}|予以公开和部分公开|{'|'.join(GROUPS)})的?{N}件"),
    ("natural", rf"自然人(?:申请|提出)?{N}件"),
    ("legal", rf"法人或其他组织(?:申请|提出)?{N}件"),
    ("type", rf"({'|'.join(APPLICANT_TYPES[1:-1])})(?:申请|提出)?{N}件"),
    ("review", rf"行政复议(?:案件)?{N}(?:件|起)"),
    ("suit", rf"行政诉讼(?:案件)?{N}(?:件|起)"),
    ("corrected", rf"结果纠正{N}件"),
    ("no_review", r"未发生(?:信息公开类)?行政复议"),
    ("no_suit", r"(?:未发生(?:信息公开类)?行政诉讼|无(?:信息公开类?)?(?:行政)?诉讼)"),
)
CLAIM = re.compile("|".join(f"(?P<{k}{i}>{p})" for i, (k, p) in enumerate(PATTERNS)))
SHARE = re.compile(r"占(?:比)?(\d+(?:\.\d+)?)%")
CHANGE = re.compile(
    r"申请(?:数量|量)较(?:(\d{4})年|上年度?|去年)(?:同期)?(上升|增长|增加|下降|减少|回落)"
    r"(\d+(?:\.\d+)?)%(?:[（(](\d{4})年为(\d+)件[）)])?"
)
PAREN = re.compile(r"[（(]([^（）()]*)[）)]")
SENTENCE = re.compile(r"[^。；;]+")
YEAR_AT_START = re.compile(r"^(\d{4})年")
UP = ("上升", "增长", "增加")


@dataclass(frozen=True)
class Claim:
    """A number the prose states: which quantity, the value, the year it speaks of, where."""

    paragraph: int  # 1-based among the document's non-empty paragraphs
    words: str  # the clause it was read from, as typed (whitespace removed)
    key: str  # new, new:自然人, handled, carried_in, carried_out, group:<g>, share:<g>, …
    value: float
    year: int


def section_one(paragraphs: list[str]) -> list[tuple[int, str]]:
    """(1-based number, text) of the non-empty paragraphs before the heading 「二、…」."""
    out = []
    for n, p in enumerate((p for p in paragraphs if p.strip()), 1):
        text = re.sub(r"\s+", "", p)
        if re.match(r"^二、", text):
            break
        out.append((n, text))
    return out


def _clause(segment: str, start: int, end: int) -> str:
    left = max(segment.rfind(c, 0, start) for c in "，,、：:") + 1
    rights = [i for i in (segment.find(c, end) for c in "，,、") if i >= 0]
    return segment[left : min(rights) if rights else len(segment)]


def _segments(sentence: str, year: int) -> list[tuple[str, int]]:
    """The sentence without its parentheses, then each parenthesis, with the year each
    speaks of (a part that begins with 「2023年」 speaks of 2023)."""
    out = [(PAREN.sub("", sentence), year)]
    for inner in PAREN.findall(sentence):
        m = YEAR_AT_START.match(inner)
        out.append((inner, int(m.group(1)) if m else year))
    return out


def extract_claims(paragraphs: list[str], year: int) -> list[Claim]:
    """Every number section 一 states about tables 三 and 四 of ``year`` (or of the year
    before, where a sentence or parenthesis says so)."""
    claims: list[Claim] = []
    for n, text in section_one(paragraphs):
        for sm in SENTENCE.finditer(text):
            sentence = sm.group(0)
            m = YEAR_AT_START.match(sentence)
            said = int(m.group(1)) if m else year
            for c in CHANGE.finditer(sentence):
                pct = float(c.group(3)) * (1 if c.group(2) in UP else -1)
                claims.append(Claim(n, c.group(0), "change", pct, said))
                if c.group(4):
                    claims.append(Claim(n, c.group(0), "new", float(c.group(5)), int(c.group(4))))
            for segment, when in _segments(CHANGE.sub("", sentence), said):
                claims += _segment_claims(n, segment, when, year)
    return claims


def _segment_claims(n: int, segment: str, when: int, year: int) -> list[Claim]:
    out: list[Claim] = []
    matches = list(CLAIM.finditer(segment))
    last_kind = ""
    for i, m in enumerate(matches):
        kind = re.sub(r"\d+$", "", m.lastgroup or "")
        groups = [g for g in m.groups() if g is not None][1:]
        words = _clause(segment, m.start(), m.end())
        value = float(groups[-1]) if groups else 0.0
        if kind == "carried_out_year":
            if int(groups[0]) != year + 1:
                continue
            kind = "carried_out"
        if kind == "group":
            g = SHOWN if groups[0] in (SHOWN, "予以公开和部分公开") else groups[0]
            out.append(Claim(n, words, f"group:{g}", value, when))
            following = segment[m.end() : matches[i + 1].start() if i + 1 < len(matches) else None]
            share = SHARE.search(following)
            if share:
                words = segment[m.start() : m.end() + share.end()]
                out.append(Claim(n, words, f"share:{g}", float(share.group(1)), when))
            continue
        if kind in ("natural", "legal", "type"):
            who = {"natural": "自然人", "legal": "法人或其他组织"}.get(kind) or groups[0]
            out.append(Claim(n, words, f"new:{who}", value, when))
            continue
        if kind in ("review", "suit", "no_review", "no_suit"):
            last_kind = kind.removeprefix("no_")
            out.append(Claim(n, words, last_kind, value, when))
            continue
        if kind == "corrected":
            if last_kind:
                out.append(Claim(n, words, f"{last_kind}:corrected", value, when))
            continue
        out.append(Claim(n, words, kind, value, when))
    return out


def _group_total(t: Table, group: str) -> float:
    subs = dict(OUTCOME_GROUPS)[group]
    return sum(t[f"{group}/{s}" if s else group]["总计"] for s in (subs or ("",)))


def _group_cell(group: str) -> str:
    n = "一二三四五六"[GROUPS.index(group)]
    subs = dict(OUTCOME_GROUPS)[group]
    if not subs:
        return cell_label("table3", group, "总计")
    return f"表三「（{n}）{group}」1至{len(subs)}项「总计」列之和"


def table_value(key: str, t3: Table, t4: Table) -> tuple[float, str]:
    """The tables' figure for a claim's quantity, and the cell(s) it comes from as printed."""
    if key == "new":
        return t3[NEW]["总计"], cell_label("table3", NEW, "总计")
    if key == "new:法人或其他组织":
        return (
            sum(t3[NEW][c] for c in APPLICANT_TYPES[1:]),
            "表三「一、本年新收政府信息公开申请数量」行法人或其他组织五列之和",
        )
    if key.startswith("new:"):
        c = key.removeprefix("new:")
        return t3[NEW][c], cell_label("table3", NEW, c)
    rows = {"handled": TOTAL, "carried_in": CARRIED_IN, "carried_out": CARRIED_OUT}
    if key in rows:
        return t3[rows[key]]["总计"], cell_label("table3", rows[key], "总计")
    if key == f"group:{SHOWN}":
        return (
            _group_total(t3, "予以公开") + _group_total(t3, "部分公开"),
            "表三「（一）予以公开」与「（二）部分公开」行「总计」列之和",
        )
    if key.startswith("group:"):
        g = key.removeprefix("group:")
        return _group_total(t3, g), _group_cell(g)
    suits = ("未经复议直接起诉", "复议后起诉")
    both = "表四「行政诉讼—未经复议直接起诉」与「行政诉讼—复议后起诉」行"
    if key == "review":
        return t4["行政复议"]["总计"], cell_label("table4", "行政复议", "总计")
    if key == "review:corrected":
        return t4["行政复议"]["结果纠正"], cell_label("table4", "行政复议", "结果纠正")
    if key == "suit":
        return sum(t4[g]["总计"] for g in suits), f"{both}「总计」列之和"
    if key == "suit:corrected":
        return sum(t4[g]["结果纠正"] for g in suits), f"{both}「结果纠正」列之和"
    raise KeyError(key)


def _within(printed: float, actual: float, text: str) -> bool:
    """A percentage as printed (「19%」, 「29.23%」) agrees with the one computed, rounded to
    the places printed."""
    places = len(text.partition(".")[2])
    return abs(printed - actual) <= 0.5 * 10**-places + 1e-9


@dataclass
class ProseCheck:
    checked: int  # claims read against a table
    problems: list[str]  # each disagreement, Chinese, naming the words and the cell
    notes: list[str]  # claims that could not be checked (last year not loaded)


def check_prose(claims: list[Claim], report: AnnualReport) -> ProseCheck:
    """Each claim against the report's tables (last year's for claims about last year); a
    share is read only when the count before it agrees (else that count is the problem)."""
    y = report.year
    result = ProseCheck(0, [], [])
    wrong: set[tuple[int, str]] = set()
    for c in claims:
        where = f"正文第{c.paragraph}段「{c.words}」"
        if c.year not in (y, y - 1):
            continue
        t3, t4, prefix = report.table3, report.table4, ""
        if c.year == y - 1 or c.key == "change":
            if report.previous3 is None or report.previous4 is None:
                what = f"与{y - 1}年的比较" if c.key == "change" else f"{y - 1}年的数"
                result.notes.append(f"{where}：{what}未核对（系统中没有{y - 1}年的表三数据）")
                continue
            if c.year == y - 1:
                t3, t4, prefix = report.previous3, report.previous4, "上一年度"
        if c.key.startswith("share:") and (c.paragraph, c.key.replace("share:", "group:")) in wrong:
            continue
        result.checked += 1
        problem = _disagreement(c, t3, t4, report, prefix)
        if problem:
            wrong.add((c.paragraph, c.key))
            result.problems.append(f"{where}：{problem}")
    return result


def _disagreement(c: Claim, t3: Table, t4: Table, report: AnnualReport, prefix: str) -> str | None:
    if c.key == "change":
        assert report.previous3 is not None
        before, now = report.previous3[NEW]["总计"], t3[NEW]["总计"]
        if not before:
            return None
        actual = (now - before) / before * 100
        text = re.search(r"(\d+(?:\.\d+)?)%", c.words)
        same_way = (c.value >= 0) == (actual >= 0) or abs(actual) < 1e-9
        if text and same_way and _within(abs(c.value), abs(actual), text.group(1)):
            return None
        return (
            f"较{report.year - 1}年{'上升' if c.value >= 0 else '下降'}{_n(abs(c.value))}%，"
            f"但按表三「一、本年新收政府信息公开申请数量」行「总计」列（{report.year - 1}年"
            f"{_n(before)}件，{report.year}年{_n(now)}件）计算为"
            f"{'上升' if actual >= 0 else '下降'}{abs(actual):.2f}%"
        )
    if c.key.startswith("share:"):
        g = c.key.removeprefix("share:")
        part, cell = table_value(f"group:{g}", t3, t4)
        whole = t3[TOTAL]["总计"]
        text = re.search(r"(\d+(?:\.\d+)?)%", c.words)
        if not whole or (text and _within(c.value, part / whole * 100, text.group(1))):
            return None
        return (
            f"占{_n(c.value)}%，但按{prefix}{cell} {_n(part)} 与表三「（七）总计」行「总计」列"
            f" {_n(whole)} 计算为 {part / whole * 100:.2f}%"
        )
    value, cell = table_value(c.key, t3, t4)
    if abs(value - c.value) < 1e-9:
        return None
    return f"{_n(c.value)}件，但{prefix}{cell}为 {_n(value)}"
