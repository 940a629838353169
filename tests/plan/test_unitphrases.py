"""责任单位 phrases → roles resolved against a small directory: one test per phrase form."""

from __future__ import annotations

import pytest

from zwgk.intake.plan.unitphrases import UnitAssignment, parse_units
from zwgk.intake.plan.unitresolve import DirectoryEntry
from zwgk.intake.plan.unitsuggest import suggest_name

E = DirectoryEntry

# A small district: one office, departments, two streets, a town, a park.
DIRECTORY: list[DirectoryEntry] = [
    E("区政府办公室", ("区政府办", "区人民政府办公室", "区政务公开办"), "office"),
    E("区发展改革委", ("区发改委",), "department"),
    E("区经委", ("区商务委", "区经济委员会"), "department"),
    E("区科委", (), "department"),
    E("区财政局", (), "department"),
    E("区审计局", (), "department", ("执法部门",)),
    E("区人力资源社会保障局", ("区人社局",), "department"),
    E("区税务局", (), "department"),
    E("区建设管理委", ("区建管委", "区交通委"), "department", ("执法部门",)),
    E("区民政局", (), "department"),
    E("区市场监管局", (), "department", ("执法部门",)),
    E("区政务服务中心", ("区行政服务中心",), "department", ("服务窗口",)),
    E("区公安分局", ("公安青浦分局", "公安长宁分局"), "department"),
    E("区大数据中心", (), "department"),
    E("华阳路街道", ("华阳路街道办事处",), "street"),
    E("江苏路街道", ("江苏路街道办事处",), "street"),
    E("新泾镇", ("新泾镇政府", "新泾镇人民政府"), "town"),
    E("临空园区", ("临空经济示范区",), "park"),
]
OFFICE = ("区政府办公室",)
DEPARTMENTS = tuple(e.name for e in DIRECTORY if e.kind == "department")
STREETS = ("华阳路街道", "江苏路街道")
TOWNS = ("新泾镇",)
PARKS = ("临空园区",)
EVERYONE = tuple(e.name for e in DIRECTORY)


def parse(text: str, directory: list[DirectoryEntry] = DIRECTORY) -> UnitAssignment:
    return parse_units(text, directory)


def only(*names: str) -> tuple[str, ...]:
    """``names`` in directory order."""
    return tuple(n for n in EVERYONE if n in names)


# --- groups ----------------------------------------------------------------------------------


def test_group_departments_and_streets() -> None:
    a = parse("区政府各部门、各街道（镇）")
    assert a.units == DEPARTMENTS + STREETS + TOWNS
    assert a.lead_units == ()  # no 牵头 named: nobody leads, every named unit is responsible
    assert (a.cooperating_units, a.unknown, a.nobody, a.warnings) == ((), (), False, ())


@pytest.mark.parametrize(
    "text",
    [
        "区政府各部门、各街镇",
        "区政府各委、办、局，各街道（镇）",
        "各委办局、各街镇",
        "区级各部门，各街道办事处、镇政府",
        "各部门\n各街镇",
    ],
)
def test_group_department_and_street_variants(text: str) -> None:
    assert parse(text).units == DEPARTMENTS + STREETS + TOWNS


def test_group_streets_only_and_towns_only() -> None:
    assert parse("各街道").units == STREETS
    assert parse("各街道办事处").units == STREETS
    assert parse("各镇").units == TOWNS


def test_group_parks() -> None:
    assert parse("园区").units == PARKS
    assert parse("各园区").units == PARKS
    assert parse("各街镇、园区，区政府各部门").units == DEPARTMENTS + STREETS + TOWNS + PARKS


@pytest.mark.parametrize("text", ["各单位", "全区各单位"])
def test_all_units(text: str) -> None:
    assert parse(text).units == EVERYONE


def test_directory_group_phrase() -> None:
    assert parse("服务窗口").units == ("区政务服务中心",)
    enforcement = ("区审计局", "区建设管理委", "区市场监管局")
    assert parse("执法部门").units == enforcement
    a = parse("牵头单位：区司法局、区审计局；责任单位：各执法部门", DIRECTORY)
    assert a.units == enforcement
    assert a.unknown == ("区司法局",)


def test_group_without_members_warns() -> None:
    no_parks = [e for e in DIRECTORY if e.kind != "park"]
    a = parse("各街镇、园区", no_parks)
    assert a.units == STREETS + TOWNS
    assert a.warnings == ("「园区」在单位名录中没有对应单位",)


# --- roles -----------------------------------------------------------------------------------


def test_lead_then_cooperating() -> None:
    a = parse("区科委牵头，区政府各部门、各街道（镇）、大数据中心配合")
    assert a.lead_units == ("区科委",)
    assert a.units == ("区科委",)
    # The lead is a department but is not also cooperating.
    assert "区科委" not in a.cooperating_units
    assert a.cooperating_units == tuple(d for d in DEPARTMENTS if d != "区科委") + STREETS + TOWNS


def test_lead_then_responsible() -> None:
    a = parse("区政府办公室（政务公开办）牵头，区政府各部门、各街道（镇）落实")
    assert a.lead_units == OFFICE
    assert a.units == OFFICE + DEPARTMENTS + STREETS + TOWNS
    assert a.cooperating_units == ()


def test_lead_then_unmarked_units_are_responsible() -> None:
    a = parse("区政府办公室牵头，区政府各部门")
    assert a.lead_units == OFFICE
    assert a.units == OFFICE + DEPARTMENTS


def test_lead_unit_label_form() -> None:
    a = parse("牵头单位：区财政局；责任单位：各街镇、园区、区政府各部门")
    assert a.lead_units == ("区财政局",)
    assert a.units == DEPARTMENTS + STREETS + TOWNS + PARKS
    assert a.cooperating_units == ()


def test_label_form_over_line_breaks_with_cooperating() -> None:
    a = parse(
        "牵头单位：区政府办公室；\n责任单位：各街镇、园区，\n区政府各部门；\n配合单位：区大数据中心"
    )
    assert a.lead_units == OFFICE
    assert "区大数据中心" in a.units  # responsible as a department, so not cooperating
    assert a.cooperating_units == ()


def test_responsible_and_cooperating_labels() -> None:
    a = parse("责任单位：区政府各相关部门；配合单位：区政务服务中心")
    assert a.units == ()
    assert a.cooperating_units == ("区政务服务中心",)
    assert a.nobody  # nobody must do it until the administrator assigns someone
    assert a.warnings == ("「区政府各相关部门」未指明具体单位，请管理员指派",)


def test_plain_list_without_role_word_is_all_responsible_no_lead() -> None:
    a = parse("区建管委、区财政局")
    assert a.units == ("区财政局", "区建设管理委")
    assert (a.lead_units, a.cooperating_units, a.unknown) == ((), (), ())


def test_responsible_suffix_without_lead() -> None:
    a = parse("区政府各部门、各街镇负责")
    assert a.units == DEPARTMENTS + STREETS + TOWNS
    assert a.lead_units == ()


def test_bracketed_role_after_one_unit() -> None:
    a = parse("区财政局（牵头）、区审计局")
    assert a.lead_units == ("区财政局",)
    assert a.units == ("区财政局", "区审计局")


def test_lead_is_not_cooperating() -> None:
    a = parse("区经委、区政府办公室牵头，各部门配合")
    assert a.lead_units == ("区政府办公室", "区经委")
    assert "区经委" not in a.cooperating_units
    assert "区科委" in a.cooperating_units


def test_ascii_punctuation() -> None:
    a = parse("区政府办公室牵头,区政府各部门、各街镇负责")
    assert a.lead_units == OFFICE
    assert a.units == OFFICE + DEPARTMENTS + STREETS + TOWNS


def test_label_with_ascii_colon_and_semicolon() -> None:
    a = parse("牵头单位:区财政局;责任单位:各街镇")
    assert (a.lead_units, a.units) == (("区财政局",), ("区财政局",) + STREETS + TOWNS)


# --- names -----------------------------------------------------------------------------------


def test_alias_resolves() -> None:
    assert parse("区政府办").units == OFFICE
    assert parse("区人民政府办公室").units == OFFICE


def test_alias_parenthesised_second_name() -> None:
    assert parse("区经委（区商务委）").units == ("区经委",)
    assert parse("区建设管理委（区交通委）").units == ("区建设管理委",)
    # Outer unknown, inner known: the inner name resolves.
    assert parse("区商业委（区商务委）").units == ("区经委",)


def test_bracket_naming_another_unit_warns() -> None:
    a = parse("区经委（区财政局）")
    assert a.units == ("区经委",)
    assert a.warnings and "区经委（区财政局）" in a.warnings[0]


def test_sub_office() -> None:
    assert parse("区政府办公室（政务公开办）").units == OFFICE
    assert parse("区政府办公室（法律事务科）牵头，相关单位落实").lead_units == OFFICE
    assert parse("区政府办公室（督查科、政务公开办）").units == OFFICE


def test_bare_short_name_gets_district_prefix() -> None:
    a = parse("区发展改革委牵头，区商务委、科委、人社局、税务局等部门配合")
    assert a.lead_units == a.units == ("区发展改革委",)
    assert a.cooperating_units == ("区经委", "区科委", "区人力资源社会保障局", "区税务局")
    assert a.unknown == ()


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("区民政局等部门", ("区民政局",)),
        ("区民政局、区财政局等单位", ("区财政局", "区民政局")),
        ("区民政局等相关单位", ("区民政局",)),
        ("区财政局、区审计局\n等", ("区财政局", "区审计局")),
        ("区民政局等", ("区民政局",)),
    ],
)
def test_trailing_deng_dropped(text: str, names: tuple[str, ...]) -> None:
    a = parse(text)
    assert (a.units, a.unknown, a.warnings) == (names, (), ())


def test_district_specific_forms() -> None:
    assert parse("公安青浦分局").units == ("区公安分局",)
    assert parse("区公安分局").units == ("区公安分局",)
    assert parse("区建管委").units == parse("区建设管理委").units == ("区建设管理委",)
    assert parse("新泾镇人民政府").units == ("新泾镇",)
    assert parse("上海市长宁区财政局").units == ("区财政局",)


@pytest.mark.parametrize(
    "text",
    [
        "区财政局和区审计局",
        "区财政局及区审计局",
        "区财政局与区审计局",
        "区财政局 区审计局",
        "区财政局\n区审计局",
    ],
)
def test_he_ji_yu_and_spaces_separate(text: str) -> None:
    assert parse(text).units == ("区财政局", "区审计局")


def test_name_containing_he_is_not_split() -> None:
    d = [*DIRECTORY, E("区规划和自然资源局", (), "department")]
    assert parse("区规划和自然资源局", d).units == ("区规划和自然资源局",)
    assert parse("区人力资源和社会保障局").units == ("区人力资源社会保障局",)


def test_line_breaks_inside_names() -> None:
    # PDF extraction breaks cells mid-word: 区政府办公\n室（政务公开\n办）牵头，相\n关单位落实
    a = parse("区政府办公\n室（政务公开\n办）牵头，相\n关单位落实")
    assert a.lead_units == OFFICE
    assert a.warnings == ("「相关单位」未指明具体单位，请管理员指派",)
    b = parse("区科委、大数\n据中心牵头，\n区政府各部\n门、各街道\n（镇）配合")
    assert b.lead_units == ("区科委", "区大数据中心")
    assert b.cooperating_units[-3:] == STREETS + TOWNS


# --- nobody / unknown ------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["相关单位", "各相关单位", "有关单位", "相关部门", "各有关单位"])
def test_related_units_name_nobody(text: str) -> None:
    a = parse(text)
    assert a == UnitAssignment((), (), (), (), True, (f"「{text}」未指明具体单位，请管理员指派",))


def test_related_units_as_responsible_after_lead() -> None:
    a = parse("区政府办公室（政务公开办）牵头，相关单位落实")
    assert (a.lead_units, a.units, a.nobody) == (OFFICE, OFFICE, False)
    assert a.warnings == ("「相关单位」未指明具体单位，请管理员指派",)


def test_related_units_cooperate_after_line_break() -> None:
    a = parse("区科委牵头\n相关单位配合")
    assert (a.lead_units, a.units, a.cooperating_units) == (("区科委",), ("区科委",), ())
    assert a.warnings == ("「相关单位」未指明具体单位，请管理员指派",)
    assert not a.nobody


def test_related_units_alongside_named_units() -> None:
    a = parse("区民政局、市场监管局、相关行业主管部门")
    assert a.units == ("区民政局", "区市场监管局")
    assert not a.nobody
    assert a.warnings == ("「相关行业主管部门」未指明具体单位，请管理员指派",)


def test_drafting_unit_names_nobody() -> None:
    a = parse("文件制定（起\n草）单位")
    assert a.nobody and a.units == ()
    b = parse("区民政局等\n文件起草单位")
    assert b.units == ("区民政局",)
    assert b.warnings == ("「文件起草单位」未指明具体单位，请管理员指派",)


def test_unknown_names_collected() -> None:
    a = parse("区科委牵头，区投促办、区文旅局、区投促办配合")
    assert a.unknown == ("区投促办", "区文旅局")  # each once, in order
    assert a.lead_units == ("区科委",)
    assert not a.nobody


def test_unknown_bracketed_name_kept_whole() -> None:
    assert parse("区财政局、投促办（金融\n办）等相关单\n位").unknown == ("投促办（金融办）",)


def test_empty_cell_names_nobody() -> None:
    a = parse(" \n")
    assert a.nobody and a.units == () and a.warnings


def test_results_follow_directory_order() -> None:
    a = parse("新泾镇、区税务局、区政府办公室、华阳路街道")
    assert a.units == ("区政府办公室", "区税务局", "华阳路街道", "新泾镇")


# --- every 责任单位 form of DOMAIN.md and the Qingpu (002) table -------------------------------

QINGPU: list[DirectoryEntry] = [
    E("区政府办公室", ("区政府办",), "office"),
    E("区政务办", ("区政务服务办公室",), "department"),
    E("区发展改革委", (), "department"),
    E("区经委", (), "department"),
    E("区商务委", (), "department"),
    E("区科委", (), "department"),
    E("区人力资源社会保障局", (), "department"),
    E("区税务局", (), "department"),
    E("区市场监管局", (), "department"),
    E("区审计局", (), "department"),
    E("区民政局", (), "department"),
    E("区建设管理委", ("区建管委",), "department"),
    E("区财政局", (), "department"),
    E("区教育局", (), "department"),
    E("区融媒体中心", (), "department"),
    E("区规划资源局", (), "department"),
    E("区住房保障房屋管理局", (), "department"),
    E("区卫生健康委", (), "department"),
    E("区生态环境局", (), "department"),
    E("区绿化市容局", (), "department"),
    E("区司法局", (), "department"),
    E("区公务员局", (), "department"),
    E("区公安分局", ("公安青浦分局",), "department"),
    E("区疫情防控领导小组办公室", (), "department"),
    E("夏阳街道", (), "street"),
    E("朱家角镇", (), "town"),
]

QINGPU_CELLS = [
    "公安青浦分局",
    "区公务员局",
    "区卫生健康委",
    "区发展改革委牵头，相关单位配合",
    "区司法局",
    "区审计局",
    "区审计局牵头，各相关单位负责",
    "区市场监管局牵头，相关单位落实",
    "区建管委",
    "区建管委、区财政局",
    "区政务办牵头，区政府各部门、各街镇负责",
    "区政务办牵头，各部门配合",
    "区政府办公室",
    "区政府办公室、区政务办",
    "区政府办公室、区疫情防控领导小组办公室、各相关单位负责",
    "区政府办公室牵头,区政府各部门、各街镇负责",
    "区政府办公室牵头,各有关单位负责",
    "区政府办公室牵头，区政府各部门、各街镇负责",
    "区政府各部门",
    "区政府各部门、各街镇",
    "区政府各部门、各街镇负责",
    "区教育局",
    "区教育局、区市场监管局",
    "区教育局、区民政局等部门",
    "区民政局、区市场监管局",
    "区民政局牵头，各街镇负责",
    "区生态环境局",
    "区税务局",
    "区经委、区政务办牵头，各部门配合",
    "区经委牵头，区发展改革委、区商务委、区人力资源社会保障局、区科委、区税务局等部门配合",
    "区绿化市容局",
    "区融媒体中心牵头，区政府各部门、各街镇负责",
    "区规划资源局、区住房保障房屋管理局、区教育局、区卫生健康委、区民政局、区生态环境局",
    "区财政局",
    "各相关单位",
]


@pytest.mark.parametrize("text", QINGPU_CELLS)
def test_every_qingpu_unit_cell_resolves(text: str) -> None:
    a = parse(text, QINGPU)
    assert a.unknown == ()
    assert a.units or a.nobody
    assert set(a.lead_units) <= set(a.units)
    assert not set(a.cooperating_units) & set(a.units)


DOMAIN_FORMS = [
    ("区政府各部门、各街道（镇）", DEPARTMENTS + STREETS + TOWNS, ()),
    ("区政府各部门、各街镇", DEPARTMENTS + STREETS + TOWNS, ()),
    ("各街镇、园区，区政府各部门", DEPARTMENTS + STREETS + TOWNS + PARKS, ()),
    ("各单位", EVERYONE, ()),
    ("各相关单位", (), ()),
    ("相关单位", (), ()),
    ("区政府办公室（政务公开办）牵头，相关单位落实", OFFICE, ()),
    ("区科委牵头\n相关单位配合", ("区科委",), ()),
    (
        "区发展改革委牵头，区商务委、科委、人社局、税务局等部门配合",
        ("区发展改革委",),
        ("区经委", "区科委", "区人力资源社会保障局", "区税务局"),
    ),
    (
        "牵头单位：区财政局；责任单位：各街镇、园区、区政府各部门",
        DEPARTMENTS + STREETS + TOWNS + PARKS,
        (),
    ),
    ("责任单位：区政府各相关部门；配合单位：区政务服务中心", (), ("区政务服务中心",)),
    ("区经委（区商务委）", ("区经委",), ()),
    ("区建设管理委（区交通委）", ("区建设管理委",), ()),
    ("区政府办公室（政务公开办）", OFFICE, ()),
    ("区政府办公室（法律事务科）", OFFICE, ()),
    ("公安青浦分局", ("区公安分局",), ()),
    ("区公安分局", ("区公安分局",), ()),
    ("区建管委", ("区建设管理委",), ()),
    ("区建设管理委", ("区建设管理委",), ()),
]


@pytest.mark.parametrize(
    ("text", "units", "cooperating"), DOMAIN_FORMS, ids=[f[0] for f in DOMAIN_FORMS]
)
def test_every_domain_form(text: str, units: tuple[str, ...], cooperating: tuple[str, ...]) -> None:
    a = parse(text)
    assert (a.units, a.cooperating_units, a.unknown) == (units, cooperating, ())


# --- 等…单位/部门 tails (issue 11) ------------------------------------------------------------

# A Shanghai district's directory: the units of the 集成式发布 cell, and a group of enterprises.
SHANGHAI: list[DirectoryEntry] = [
    *DIRECTORY,
    E("区教育局", (), "department"),
    E("区房管局", ("区住房保障房屋管理局",), "department"),
    E("区城投集团", (), "department", ("各区属国有企业",)),
    E("区国资公司", (), "department", ("各区属国有企业",)),
]
INTEGRATED = (
    "区发展改革委、区经委、区教育局、区科委、区民政局、区市场监管局、区房管局"
    "等集成式发布工作牵头单位"
)
INTEGRATED_UNITS = (
    "区发展改革委",
    "区经委",
    "区科委",
    "区民政局",
    "区市场监管局",
    "区教育局",
    "区房管局",
)  # directory order


def test_deng_descriptive_words_then_lead_unit_keeps_listed_units_as_leads() -> None:
    a = parse(INTEGRATED, SHANGHAI)
    assert a.lead_units == a.units == INTEGRATED_UNITS  # all 7 lead
    assert (a.cooperating_units, a.unknown, a.suggestions, a.warnings) == ((), (), (), ())


def test_deng_tail_over_pdf_line_breaks() -> None:
    a = parse("区民政局、区房管局等集成式\n发布工作牵\n头单位", SHANGHAI)
    assert (a.lead_units, a.unknown) == (("区民政局", "区房管局"), ())


@pytest.mark.parametrize(
    "text",
    ["区民政局、区财政局等有关部门", "区民政局、区财政局等行业主管部门", "区民政局、区财政局等"],
)
def test_deng_youguan_bumen_keeps_listed_units_responsible(text: str) -> None:
    a = parse(text)
    assert a.units == ("区财政局", "区民政局")
    assert (a.lead_units, a.cooperating_units, a.unknown, a.warnings) == ((), (), (), ())


@pytest.mark.parametrize(
    "text",
    ["区民政局、区财政局等部门配合", "区民政局、区财政局等集成式发布工作配合单位"],
)
def test_deng_bumen_peihe_still_cooperating(text: str) -> None:
    a = parse(text)
    assert a.cooperating_units == ("区财政局", "区民政局")
    assert (a.lead_units, a.units, a.unknown) == ((), (), ())


def test_deng_tail_role_word_with_lead_elsewhere() -> None:
    a = parse("区科委牵头，区民政局、区财政局等集成式发布工作责任单位")
    assert a.lead_units == ("区科委",)
    assert a.units == ("区科委", "区财政局", "区民政局")
    assert a.unknown == ()


def test_deng_tail_that_names_units_is_not_dropped() -> None:
    # 等各街镇 names units (the streets and towns), it does not describe the listed ones.
    a = parse("区民政局等各街镇负责")
    assert a.units == ("区民政局",) + STREETS + TOWNS
    # Words after 等 that are a near miss are reported, not dropped as a description.
    b = parse("区民政局等各区属国有企企牵头", SHANGHAI)
    assert b.lead_units == ("区民政局",)
    assert b.unknown == ("各区属国有企企",)
    assert b.suggestions == (("各区属国有企企", "各区属国有企业"),)


def test_deng_tail_without_noun_or_role_stays_unknown() -> None:
    # Not a description of units (no 单位/部门, no role word): the caller must see it.
    assert parse("区民政局等区属学校").unknown == ("区属学校",)


# --- near misses -----------------------------------------------------------------------------


def test_near_miss_typo_in_group_suggests_group() -> None:
    a = parse("区财政局、各区属国有企企", SHANGHAI)
    assert a.units == ("区财政局",)
    assert a.unknown == ("各区属国有企企",)
    assert a.suggestions == (("各区属国有企企", "各区属国有企业"),)


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [
        ("区教育", "区教育局"),  # missing 局
        ("区科委委", "区科委"),  # extra 委
        ("区华阳路街道", "华阳路街道"),  # extra 区
        ("区教育委", "区教育局"),  # 委 for 局
        ("区新泾镇", "新泾镇"),  # 区 in front of a town
        ("上海市长宁区教育", "区教育局"),
        ("区市场监督局", "区市场监管局"),  # one wrong character in six
        ("区政府各部问", "区政府各部门"),  # a built-in group phrase
        ("各区属国有企企", "各区属国有企业"),
    ],
)
def test_near_miss_suggests_closest_name(name: str, suggestion: str) -> None:
    assert suggest_name(name, SHANGHAI) == suggestion
    a = parse(name, SHANGHAI)
    assert (a.units, a.unknown, a.suggestions) == ((), (name,), ((name, suggestion),))


@pytest.mark.parametrize("text", ["区发改委", "发改委", "区发展改革委", "区发改委（区发展改革委）"])
def test_alias_forms_resolve_and_are_not_suggestions(text: str) -> None:
    a = parse(text, SHANGHAI)
    assert (a.units, a.unknown, a.suggestions) == (("区发展改革委",), (), ())


@pytest.mark.parametrize(
    "name",
    [
        "区统计局",  # one wrong character in four: a different unit (区审计局), not a typo
        "区文旅局",
        "区投资促进服务中心",
        "集成式发布工作",
    ],
)
def test_no_close_match_no_suggestion(name: str) -> None:
    assert suggest_name(name, SHANGHAI) is None
    a = parse(name, SHANGHAI)
    assert (a.unknown, a.suggestions) == ((name,), ())


def test_two_units_equally_close_no_suggestion() -> None:
    d = [E("区信访办", (), "department"), E("区信访局", (), "department")]
    assert suggest_name("区信访委", d) is None


def test_role_word_with_its_noun_at_clause_end() -> None:
    a = parse("区科委牵头单位，区财政局配合部门")
    assert (a.lead_units, a.cooperating_units, a.unknown) == (("区科委",), ("区财政局",), ())
    b = parse("相关责任单位")
    assert b.nobody and b.warnings == ("「相关责任单位」未指明具体单位，请管理员指派",)
