"""The words of a 责任单位 cell: role words, separators, group phrases and the patterns over them.

Data only (plus the two key functions the directory side shares with the splitter); the grammar
they serve is described in :mod:`zwgk.intake.plan.unitphrases`.
"""

from __future__ import annotations

import re

KIND_OFFICE, KIND_DEPARTMENT, KIND_STREET, KIND_TOWN, KIND_PARK = (
    "office",
    "department",
    "street",
    "town",
    "park",
)

# --- roles ---------------------------------------------------------------------------------

LEAD, RESPONSIBLE, COOPERATING = "lead", "responsible", "cooperating"

ROLE_WORDS: dict[str, str] = {
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
MARKER_RE = re.compile(
    r"(?P<label>(?:牵头|主责|责任|负责|落实|主办|承办|配合|协办|协助|参与)(?:单位|部门)?：)"
    r"|(?P<suffix>(?:牵头|主责|责任|负责|落实|主办|承办|配合|协办|协助|参与)(?:单位|部门)"
    + _CLAUSE_END
    + r"|牵头|负责|落实|配合|协办|协助|参与)"
)
ITEM_ROLE_RE = re.compile(r"（(?P<word>牵头|负责|落实|配合|协办|协助|参与)(?:单位)?）$")

# --- normalisation -------------------------------------------------------------------------

TRANSLATE = str.maketrans(
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
PRE_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = (
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
STRONG_SEPARATORS = "、，；/"
WEAK_SEPARATORS = "和及与等"


def norm(name: str) -> str:
    """Directory-side key: no whitespace, full-width brackets and colon."""
    return _WS_RE.sub("", name.translate(TRANSLATE))


# --- group phrases -------------------------------------------------------------------------

ALL_KINDS = "*"
# Built-in group phrases → the unit kinds they stand for (``ALL_KINDS``: every unit).
GROUP_PHRASES: dict[str, tuple[str, ...]] = {}
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
    (("各单位", "全区各单位", "区各单位", "各级各单位", "区级各单位"), (ALL_KINDS,)),
):
    for _p in _phrases:
        GROUP_PHRASES[_p] = _kinds

# Phrases naming nobody in particular: 相关单位, 各有关单位, 区政府各相关部门, 相关街镇, 属地街镇…
NOBODY_RE = re.compile(r"^(?:区政府|区级|区|全区)?(?:各|其他|其它)?(?:相关|有关|属地)")
NOBODY_PHRASES = {
    "文件起草单位",
    "起草单位",
    "文件制定（起草）单位",
    "文件制定单位",
    "文件起草部门",
    "起草部门",
    "制文单位",
    "发文单位",
}
TRAILING_DENG_RE = re.compile(
    r"等(?:\d+个|[一二三四五六七八九十两]+个)?(?:相关|有关|其他|其它)?"
    r"(?:单位|部门|委办局|街镇|职能部门|成员单位|区级部门)?$"
)
GROUP_PREFIX_RE = re.compile(r"^(?:全区|区政府|区级|区)?各")
# A 等 tail with no role word that still reads as a description of units: 等行业主管部门.
DESCRIPTIVE_NOUN_RE = re.compile(r"(?:单位|部门|机构)$")
DISTRICT_PREFIX_RE = re.compile(r"^(?:上海市)?[\u4e00-\u9fff]{1,3}区(?=[\u4e00-\u9fff]{2})")
PAREN_RE = re.compile(r"^(?P<outer>[^（）]+)（(?P<inner>[^（）]*)）(?P<rest>[^（）]*)$")


def group_key(phrase: str) -> str:
    """A group phrase without its ``各``/``区政府各``/``全区``… prefix."""
    return GROUP_PREFIX_RE.sub("", phrase)
