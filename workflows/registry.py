"""The obligation registry (事项登记簿): every recurring obligation, declared once.

Its flow (``workflows/flows.py``), its deployment (``prefect.yaml``, checked against this
registry by ``tests/test_registry.py``) and its ``zwgk run SLUG`` entry all follow from
the declaration here. Adding an obligation = one ``Obligation(...)`` below plus its
templates under ``notifications/templates/<slug>/``.
"""

from __future__ import annotations

from models.checklist import Role
from workflows.events import EVENT_KINDS
from workflows.obligation import (
    ALL_UNITS,
    OFFICE,
    DayOfMonth,
    FixedDate,
    Ladder,
    MonthWindow,
    Obligation,
    Step,
    WorkdaysAfterPeriodEnd,
    previous_year,
)
from workflows.workplan import plan_work_plan
from zwgk.errors import UserError
from zwgk.periods import Cadence
from zwgk.reports.annual import build_report
from zwgk.reports.annual_docx import to_docx

MONTHLY_FILING = Obligation(
    slug="monthly-filing",
    title="新增非密公文全量备案",
    basis="本区政务公开工作要点关于新增非密公文每月25日全量备案一次的要求",
    cadence=Cadence.monthly,
    steps=(
        Step(
            slug="file",
            title="在区政务公开工作平台完成本月新增非密公文全量备案",
            due=DayOfMonth(25),
            who=ALL_UNITS,
            detail="属性为主动公开的公文应在形成之日起20个工作日内公开，并同步推送至全市主动公开公文库。",
        ),
    ),
    cron="0 9 1 * *",
    schedule_note="每月1日 09:00 生成当月清单",
    review=True,  # the office checks each unit's filing (审核) and may send it back
    allow_nil=True,  # 本月无新增公文
)

DECISION_CATALOGUE = Obligation(
    slug="decision-catalogue",
    title="年度重大行政决策事项目录公开",
    basis="本区政务公开工作要点关于区政府重大行政决策事项目录于3月31日前"
    "主动向社会公开、各单位按要求公开本单位目录的要求",
    cadence=Cadence.yearly,
    steps=(
        Step(
            slug="district-catalogue",
            title="公开区政府年度重大行政决策事项目录",
            due=FixedDate(3, 31),
            who=OFFICE,
            role=Role.lead,
            detail="由区政府办公室（法律事务科）牵头编制并公开。",
        ),
        Step(
            slug="unit-catalogue",
            title="公开本单位年度重大行政决策事项目录",
            due=FixedDate(4, 30, setting="decision_catalogue_unit_due"),
            who=ALL_UNITS,
            detail="目录及调整情况在本单位政府信息公开专栏公开。",
        ),
    ),
    cron="0 9 5 1 *",
    schedule_note="每年1月5日 09:00 生成当年清单",
)

OPEN_MONTH = Obligation(
    slug="open-month",
    title="政府开放月活动",
    basis="本区政务公开工作要点关于8月开展“政府开放月”活动的要求",
    cadence=Cadence.yearly,
    steps=(
        Step(
            slug="coordinate",
            title="统筹全区政府开放月活动安排并汇总各单位计划",
            due=MonthWindow(7),
            who=OFFICE,
            role=Role.lead,
        ),
        Step(
            slug="plan",
            title="制定本单位政府开放月活动方案并报送",
            due=MonthWindow(7),
            who=ALL_UNITS,
        ),
        Step(
            slug="hold",
            title="举办线下开放活动（含答疑、座谈、问卷环节，使用“政府开放月”标识）",
            due=MonthWindow(8),
            who=ALL_UNITS,
        ),
        Step(
            slug="report",
            title="报送开放月活动举办情况",
            due=FixedDate(9, 10),
            who=ALL_UNITS,
            detail="9月上旬前报送，附活动新闻稿或公开网址。",
        ),
    ),
    cron="0 9 15 6 *",
    schedule_note="每年6月15日 09:00 生成当年清单",
)

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _annual_drafts(*, session, unit, period):  # type: ignore[no-untyped-def]
    """Each unit's draft report for the year (and the district's for the office)."""
    files = []
    report = build_report(session=session, year=period.year, unit=unit, titles=item_titles())
    files.append(
        (
            f"{unit.name}{period.year}年政府信息公开工作年度报告（草稿）.docx",
            to_docx(report),
            DOCX_MIME,
        )
    )
    if unit.kind == "office":
        district = build_report(
            session=session, year=period.year, district=unit.district, titles=item_titles()
        )
        files.append(
            (
                f"{unit.district}{period.year}年政府信息公开工作年度报告（草稿）.docx",
                to_docx(district),
                DOCX_MIME,
            )
        )
    return files


ANNUAL_REPORT = Obligation(
    slug="annual-report",
    title="政府信息公开工作年度报告",
    basis="《中华人民共和国政府信息公开条例》第四十九条和本区政务公开工作要点"
    "关于各单位1月底前、区政府2月20日前公开上一年度报告的要求",
    cadence=Cadence.yearly,
    steps=(
        Step(
            slug="unit-report",
            title="公开本单位上一年度政府信息公开工作年度报告",
            due=FixedDate(1, 31, year_offset=1),
            who=ALL_UNITS,
        ),
        Step(
            slug="district-report",
            title="公开区政府上一年度政府信息公开工作年度报告",
            due=FixedDate(2, 20, year_offset=1),
            who=OFFICE,
            role=Role.lead,
        ),
    ),
    cron="0 9 2 1 *",
    schedule_note="每年1月2日 09:00 生成上一年度报告清单，并附各单位年报草稿",
    default_period=previous_year,
    attachments=_annual_drafts,
)

QUARTERLY_PROGRESS = Obligation(
    slug="quarterly-progress",
    title="每季度上报工作要点完成情况",
    basis="本区政务公开工作要点关于各单位每季度上报完成情况、区政府办公室每季度跟踪检查的要求",
    cadence=Cadence.quarterly,
    steps=(
        Step(
            slug="report",
            title="上报本季度工作要点任务完成情况",
            due=WorkdaysAfterPeriodEnd(5),
            who=ALL_UNITS,
        ),
        Step(
            slug="check",
            title="汇总检查各单位本季度完成情况",
            due=WorkdaysAfterPeriodEnd(10),
            who=OFFICE,
            role=Role.lead,
        ),
    ),
    cron="0 9 20 3,6,9,12 *",
    schedule_note="每季度末月20日 09:00 生成当季清单",
)


ASSESSMENT_RESULT = Obligation(
    slug="assessment-result",
    title="政务公开考核结果公开",
    basis="本区政务公开工作要点关于上一年度政务公开考核结果于次年第一季度公开的要求",
    cadence=Cadence.yearly,
    steps=(
        Step(
            slug="publish",
            title="公开上一年度各单位政务公开考核结果",
            due=FixedDate(3, 31, year_offset=1),
            who=OFFICE,
            role=Role.lead,
            detail="考核得分及扣分原因可用 zwgk report assessment 按考评标准生成，核定后公开。",
        ),
    ),
    cron="0 9 10 1 *",
    schedule_note="每年1月10日 09:00 生成上一年度考核结果公开清单",
    default_period=previous_year,
)


WORK_PLAN = Obligation(
    slug="work-plan",
    title="政务公开工作要点任务",
    basis="本区年度政务公开工作要点任务分解表",
    cadence=Cadence.yearly,
    steps=(),
    planner=plan_work_plan,
    cron="0 9 1 * *",
    schedule_note="每月1日 09:00 按已导入的工作要点补建清单",
)

REGISTRY: dict[str, Obligation] = {
    ob.slug: ob
    for ob in (
        MONTHLY_FILING,
        DECISION_CATALOGUE,
        OPEN_MONTH,
        ANNUAL_REPORT,
        QUARTERLY_PROGRESS,
        ASSESSMENT_RESULT,
        WORK_PLAN,
    )
}


def get_obligation(slug: str) -> Obligation:
    try:
        return REGISTRY[slug]
    except KeyError:
        # Titles first (the page's reader), the slug in parentheses (the CLI's argument).
        known = "、".join(f"{ob.title}（{key}）" for key, ob in REGISTRY.items())
        raise UserError(f"未知的事项「{slug}」。可用的事项：{known}") from None


def item_titles() -> dict[str, str]:
    """Chinese title for every ``obligation`` an item can carry: obligations and event kinds."""
    return {slug: ob.title for slug, ob in REGISTRY.items()} | {
        k.obligation: k.title for k in EVENT_KINDS.values()
    }


def item_ladders() -> dict[str, Ladder]:
    """The reminder ladder for every ``obligation`` an item can carry."""
    return {slug: ob.ladder for slug, ob in REGISTRY.items()} | {
        k.obligation: k.ladder for k in EVENT_KINDS.values()
    }
