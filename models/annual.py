"""Data behind the annual report (政府信息公开工作年度报告): the application register, the
figures typed in by hand, and the statutory rows and columns of its tables that both hold."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from zwgk.clock import utcnow

APPLICANT_TYPES = ("自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他")
COLUMNS = (*APPLICANT_TYPES, "总计")


# Table 三's outcome rows in statutory order: (大类, [小类…]); no sub-rows → the 大类 alone.
OUTCOME_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("予以公开", ()),
    ("部分公开", ()),
    (
        "不予公开",
        (
            "属于国家秘密",
            "其他法律行政法规禁止公开",
            "危及“三安全一稳定”",
            "保护第三方合法权益",
            "属于三类内部事务信息",
            "属于四类过程性信息",
            "属于行政执法案卷",
            "属于行政查询事项",
        ),
    ),
    (
        "无法提供",
        ("本机关不掌握相关政府信息", "没有现成信息需要另行制作", "补正后申请内容仍不明确"),
    ),
    (
        "不予处理",
        (
            "信访举报投诉类申请",
            "重复申请",
            "要求提供公开出版物",
            "无正当理由大量反复申请",
            "要求行政机关确认或重新出具已获取信息",
        ),
    ),
    (
        "其他处理",
        (
            "申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
            "申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
            "其他",
        ),
    ),
)
OUTCOMES: tuple[str, ...] = tuple(
    f"{g}/{s}" if s else g for g, subs in OUTCOME_GROUPS for s in (subs or ("",))
)
NEW, CARRIED_IN, TOTAL, CARRIED_OUT = "本年新收", "上年结转", "办理结果总计", "结转下年度"
TABLE3_ROWS = (NEW, CARRIED_IN, *OUTCOMES, TOTAL, CARRIED_OUT)

# Table 二: (row, columns). Table 四: groups × results.
TABLE2: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("规章", ("本年制发件数", "本年废止件数", "现行有效件数")),
    ("行政规范性文件", ("本年制发件数", "本年废止件数", "现行有效件数")),
    ("行政许可", ("本年处理决定数量",)),
    ("行政处罚", ("本年处理决定数量",)),
    ("行政强制", ("本年处理决定数量",)),
    ("行政事业性收费", ("本年收费金额（万元）",)),
)
TABLE4_GROUPS = ("行政复议", "未经复议直接起诉", "复议后起诉")
TABLE4_RESULTS = ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计")


class Application(SQLModel, table=True):
    """One information request (政府信息公开申请) in a unit's register (依申请公开登记)."""

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    ref: str = ""  # the unit's own number for the request, if it has one
    received: date = Field(index=True)
    applicant_type: str  # one of APPLICANT_TYPES
    outcome: str | None = None  # one of OUTCOMES ("大类/小类"); None while pending
    replied: date | None = None
    extended: bool = False  # 延期答复 (art. 33: once, by 20 working days)
    item_id: int | None = Field(default=None, foreign_key="checklistitem.id")
    fingerprint: str = Field(index=True)  # identifies the row across re-imports
    created_at: datetime = Field(default_factory=utcnow)


class AnnualFigure(SQLModel, table=True):
    """One figure typed in by hand for a unit and year: a cell of table 二, 三 or 四."""

    __table_args__ = (
        UniqueConstraint("unit_id", "year", "table", "row", "col", name="uq_annual_figure"),
    )

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    year: int = Field(index=True)
    table: str  # table2 | table3 | table4
    row: str  # a row of TABLE2, TABLE3_ROWS or TABLE4_GROUPS
    col: str  # a column of that table (TABLE2's, COLUMNS, TABLE4_RESULTS)
    value: float
    updated_at: datetime = Field(default_factory=utcnow)


# --- Labels as printed in the national format (国办公开办函〔2021〕30号) -----------------------
# Offices copy last year's published tables, so a cell may be named by its printed label, with
# or without its numbering ("（三）不予公开 1.属于国家秘密", "四、结转下年度继续办理"), or by the
# internal key above. Both intake (reading figures) and reports (naming a failed check) use these.

TABLE_NAMES = {"table2": "表二", "table3": "表三", "table4": "表四"}
_TABLE_ALIASES = {
    **{k: k for k in TABLE_NAMES},
    **{v: k for k, v in TABLE_NAMES.items()},
    "二": "table2",
    "三": "table3",
    "四": "table4",
    "表2": "table2",
    "表3": "table3",
    "表4": "table4",
}
NUMERALS = ("一", "二", "三", "四", "五", "六", "七")
PARTIAL_NOTE = "（区分处理的，只计这一情形，不计其他情形）"
TABLE4_PRINTED_GROUPS = {
    "行政复议": "行政复议",
    "未经复议直接起诉": "行政诉讼—未经复议直接起诉",
    "复议后起诉": "行政诉讼—复议后起诉",
}


def table3_row_label(key: str) -> str:
    """A table-三 row as printed: "一、本年新收…", "（三）不予公开 1.属于国家秘密"."""
    if key == NEW:
        return "一、本年新收政府信息公开申请数量"
    if key == CARRIED_IN:
        return "二、上年结转政府信息公开申请数量"
    if key == TOTAL:
        return "（七）总计"
    if key == CARRIED_OUT:
        return "四、结转下年度继续办理"
    group, _, sub = key.partition("/")
    n = next(i for i, (g, _s) in enumerate(OUTCOME_GROUPS) if g == group)
    label = f"（{NUMERALS[n]}）{group}"
    if not sub:
        return label
    subs = OUTCOME_GROUPS[n][1]
    return f"{label} {subs.index(sub) + 1}.{sub}"


def table3_col_label(col: str) -> str:
    return col


def cell_label(table: str, row: str, col: str) -> str:
    """「表三「（三）不予公开 1.属于国家秘密」行「自然人」列」 — a cell named as printed."""
    if table == "table3":
        row = table3_row_label(row)
    elif table == "table4":
        row = TABLE4_PRINTED_GROUPS.get(row, row)
    return f"{TABLE_NAMES.get(table, table)}「{row}」行「{col}」列"


def canon(text: str) -> str:
    """A label reduced for matching: width, spaces, numbering, separators and notes dropped."""
    import re
    import unicodedata

    t = unicodedata.normalize("NFKC", text)
    t = "".join(t.split())
    t = t.replace("“", '"').replace("”", '"')
    t = t.replace("(区分处理的,只计这一情形,不计其他情形)", "")
    t = re.sub(r"\((?:单位:)?万元\)", "", t)
    t = re.sub(r"^[一二三四五六七八九十]+、", "", t)
    t = t.replace("本年度办理结果", "")
    t = re.sub(r"\([一二三四五六七八九十]+\)", "", t)
    t = re.sub(r"(?:^|(?<=[^0-9]))[0-9]{1,2}[.、]", "", t)
    t = re.sub(r"[/\\\-—–_|:>·]", "", t)
    return t


def _row_aliases() -> dict[str, dict[str, str]]:
    rows3: dict[str, str] = {}
    for key in TABLE3_ROWS:
        rows3[canon(key)] = key
        rows3[canon(table3_row_label(key))] = key
        group, _, sub = key.partition("/")
        if sub:
            rows3[canon(sub)] = key
    rows3[canon("本年新收")] = NEW
    rows3[canon("上年结转")] = CARRIED_IN
    rows3[canon("总计")] = TOTAL
    rows3[canon("结转下年度")] = CARRIED_OUT
    rows4 = {canon(g): g for g in TABLE4_GROUPS}
    rows4 |= {canon(p): g for g, p in TABLE4_PRINTED_GROUPS.items()}
    rows4 |= {canon("行政诉讼" + g): g for g in TABLE4_GROUPS[1:]}
    rows2 = {canon(r): r for r, _c in TABLE2}
    return {"table2": rows2, "table3": rows3, "table4": rows4}


def _col_aliases(table: str, row: str) -> dict[str, str]:
    if table == "table3":
        out = {canon(c): c for c in COLUMNS}
        out |= {canon("法人或其他组织" + c): c for c in APPLICANT_TYPES[1:]}
        out |= {canon("申请人情况" + c): c for c in APPLICANT_TYPES}
        return out
    if table == "table4":
        return {canon(r): r for r in TABLE4_RESULTS}
    cols = next(c for r, c in TABLE2 if r == row)
    out = {canon(c): c for c in cols}
    if "本年收费金额（万元）" in cols:
        out[canon("本年收费金额")] = "本年收费金额（万元）"
    return out


def _closest(word: str, choices: dict[str, str], shown: dict[str, str]) -> str:
    from difflib import get_close_matches

    near = get_close_matches(canon(word), list(choices), n=1, cutoff=0.3)
    if near:
        return f"，最接近的是「{shown[choices[near[0]]]}」"
    return "，可用的有：" + "、".join(dict.fromkeys(shown.values()))


def _heading(table: str, row: str) -> str | None:
    """For a heading of table 三 typed as a row ("（三）不予公开", "三、本年度办理结果"): where its
    figures go instead (the rows below it), else None."""
    if table != "table3":
        return None
    c = canon(row)
    for n, (group, subs) in enumerate(OUTCOME_GROUPS):
        if subs and c in (canon(group), canon(f"（{NUMERALS[n]}）{group}")):
            keys = [k for k in TABLE3_ROWS if k.startswith(f"{group}/")]
            return (
                f"表三「（{NUMERALS[n]}）{group}」是分项标题，本身不填数字，数字填在其下各项："
                + "、".join(f"「{table3_row_label(k)}」" for k in keys)
            )
    if c in (canon("三、本年度办理结果"), canon("本年度办理结果")):
        return "表三「三、本年度办理结果」是标题，本身不填数字，数字填在其下（一）至（七）各项"
    return None


def resolve_cell(table: str, row: str, col: str) -> tuple[str, str, str]:
    """(table, row, col) as stored from a cell named as printed or by internal key; ValueError
    with a Chinese message naming the label and the closest valid one."""
    t = _TABLE_ALIASES.get("".join(table.split()).lower()) or _TABLE_ALIASES.get(
        "".join(table.split())
    )
    if t is None:
        raise ValueError(
            f"没有「{table}」这张表，应为 表二、表三 或 表四（也可写 二/三/四、table2/3/4）"
        )
    rows = _row_aliases()[t]
    if t == "table3":
        shown = {k: table3_row_label(k) for k in TABLE3_ROWS}
    elif t == "table4":
        shown = dict(TABLE4_PRINTED_GROUPS)
    else:
        shown = {r: r for r, _c in TABLE2}
    r = rows.get(canon(row))
    if r is None:
        heading = _heading(t, row)
        if heading:
            raise ValueError(heading)
        raise ValueError(f"{TABLE_NAMES[t]}没有「{row}」这一行{_closest(row, rows, shown)}")
    cols = _col_aliases(t, r)
    c = cols.get(canon(col))
    if c is None:
        raise ValueError(
            f"{TABLE_NAMES[t]}「{shown[r]}」行没有「{col}」这一列"
            f"{_closest(col, cols, {v: v for v in cols.values()})}"
        )
    return t, r, c
