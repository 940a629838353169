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
