"""The annual report's sections 五 and 六 drafted from the year's checklist: overdue items,
returned submissions, the work plan's progress; a clean year said plainly."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from docx import Document
from docx.enum.text import WD_COLOR_INDEX
from sqlmodel import select

from models.checklist import ChecklistItem
from models.unit import Unit
from tests.factories import write_csv
from workflows.engine import build_checklist
from workflows.items import complete
from workflows.registry import get_obligation, item_titles
from workflows.submissions import accept, send_back, submit
from zwgk.clock import frozen
from zwgk.config import get_settings
from zwgk.db import session_scope
from zwgk.reports.annual import build_report
from zwgk.reports.annual_docx import other_matters, problems, to_docx, to_markdown

EVIDENCE = "https://www.test.example.gov.cn/gk/1"
AS_OF = date(2027, 1, 6)
PLAN = [
    ["1", "公开平台", "优化政府网站", "完善栏目", "区政府办公室", "6月底前"],
    ["2", "公开平台", "政务新媒体", "规范账号", "区教育局", "9月底前"],
    ["3", "政策解读", "重要政策解读", "解读率100%", "区发展改革委、区教育局", "10月底前"],
]


def _import_plan(folder: Path, district: str) -> None:
    from workflows.workcal import load_calendar
    from zwgk.intake.plan.importer import import_plan

    path = write_csv(
        folder / "要点.csv",
        ["序号", "任务类别", "任务名称", "具体内容", "责任单位", "完成时间"],
        PLAN,
    )
    with session_scope() as s:
        import_plan(
            session=s,
            path=path,
            district=district,
            year=2026,
            issued=date(2026, 3, 2),
            cal=load_calendar(s),
        )


def _build(district: str, slug: str, periods: list[str]) -> None:
    ob = get_obligation(slug)
    with session_scope() as s:
        for p in periods:
            build_checklist(
                session=s,
                ob=ob,
                period=ob.parse_period(p),
                settings=get_settings(),
                district=district,
                today=date(2026, 3, 10),
            )


def _items(slug: str, period: str) -> dict[str, ChecklistItem]:
    with session_scope() as s:
        rows = s.exec(
            select(ChecklistItem, Unit.name)
            .join(Unit)
            .where(ChecklistItem.obligation == slug, ChecklistItem.period == period)
        ).all()
        return {name: item for item, name in rows}


def _finish(item: ChecklistItem, days: int) -> None:
    """Complete ``item`` ``days`` after its due date (negative: before it)."""
    when = datetime.combine(item.due, datetime.min.time(), tzinfo=UTC).replace(hour=2)
    with session_scope() as s:
        complete(session=s, item_id=item.id, evidence=EVIDENCE, now=when + timedelta(days=days))


def _report(district: str, year: int = 2026, unit: str | None = None):  # type: ignore[no-untyped-def]
    with session_scope() as s:
        u = s.exec(select(Unit).where(Unit.name == unit)).one() if unit else None
        return build_report(
            session=s,
            year=year,
            unit=u,
            district=None if u else district,
            titles=item_titles(),
            today=AS_OF,
        )


def _text(section: list[tuple[str, str]]) -> str:
    return "\n".join(text for _, text in section)


def test_a_year_with_overdue_items_and_a_return(directory: str, tmp_path: Path) -> None:
    _import_plan(tmp_path, directory)
    _build(directory, "work-plan", ["2026"])
    _build(directory, "monthly-filing", ["2026-10", "2026-11"])
    plan = _items("work-plan", "2026")
    _finish(plan["区政府办公室"], -3)  # task 1 on time
    # task 2 (区教育局) left open; task 3: 区发展改革委 on time, 区教育局 late → late
    with session_scope() as s:
        items = s.exec(
            select(ChecklistItem, Unit.name)
            .join(Unit)
            .where(ChecklistItem.obligation == "work-plan")
        ).all()
    for item, name in items:
        if item.step_title.startswith("第3项"):
            _finish(item, 5 if name == "区教育局" else -1)
    for period in ("2026-10", "2026-11"):
        for name, item in _items("monthly-filing", period).items():
            if (name, period) in (("新泾镇", "2026-11"), ("区发展改革委", "2026-10")):
                continue  # left overdue; submitted through review below
            _finish(item, 2 if name == "华阳路街道" else -5)
    # 区发展改革委's October filing: submitted, sent back by the office, submitted again and
    # passed (awaiting review it would still be not done).
    october = _items("monthly-filing", "2026-10")["区发展改革委"]
    with frozen(datetime(2026, 10, 20, 2, tzinfo=UTC)):
        with session_scope() as s:
            submit(session=s, item_id=october.id, unit_id=october.unit_id, evidence=EVIDENCE)
        with session_scope() as s:
            send_back(
                session=s,
                item_id=october.id,
                by="wangjing",
                reason="公开网址打不开，请核对后重新报送。",
                settings=get_settings(),
            )
        with session_scope() as s:
            submit(session=s, item_id=october.id, unit_id=october.unit_id, evidence=EVIDENCE)
        with session_scope() as s:
            accept(session=s, item_id=october.id, by="wangjing")  # type: ignore[arg-type]

    report = _report(directory)
    five = _text(problems(report))
    # 2 filings late (华阳路街道 twice), 1 work-plan item late; 新泾镇's November filing and
    # 区教育局's task 2 open.
    assert "一是部分政务公开重点工作未能按时完成" in five
    assert "逾期完成3项" in five and "截至2027年1月6日仍未完成2项" in five
    assert "“新增非密公文全量备案”（3项）" in five
    assert "华阳路街道" in five and "新泾镇" in five and "区教育局" in five
    assert "二是部分报送材料质量有待提高" in five
    assert "退回修改1次" in five and "“公开网址打不开，请核对后重新报送”" in five
    assert "（二）改进情况" in five and "一是强化工作统筹" in five and "二是加强业务培训" in five
    assert "【待填写：2025年度报告所列问题的改进情况】" in five

    six = _text(other_matters(report))
    assert "对照《测试区2026年政务公开工作要点》" in six
    assert "共承担工作要点任务3项，已完成2项（其中按时完成1项、逾期完成1项）" in six
    assert "尚未完成1项" in six
    assert "公开平台方面2项，完成1项；政策解读方面1项，完成1项" in six
    assert "第2项政务新媒体" in six
    assert "【待填写：依据《政府信息公开信息处理费管理办法》" in six
    assert "【待填写：人大代表建议和政协提案办理结果公开情况】" in six

    # One unit's report speaks of that unit only.
    own = _report(directory, unit="区发展改革委")
    five = _text(problems(own))
    assert "本机关" in five and "一是部分报送材料质量有待提高" in five
    assert "未能按时完成" not in five
    six = _text(other_matters(own))
    assert "共承担工作要点任务1项，已完成1项，全部完成。" in six

    # The DOCX carries both sections, each marker highlighted for the office.
    doc = Document(io.BytesIO(to_docx(report)))
    paras = [p for p in doc.paragraphs]
    texts = [p.text for p in paras]
    start = texts.index("五、存在的主要问题及改进情况")
    assert texts[start + 1] == "（一）存在的主要问题"
    assert texts[start + 2].startswith("一是部分政务公开重点工作未能按时完成")
    assert "六、其他需要报告的事项" in texts[start:]
    marked = [
        r
        for p in paras[start:]
        for r in p.runs
        if r.text.startswith("【待填写") and r.font.highlight_color == WD_COLOR_INDEX.YELLOW
    ]
    assert len(marked) >= 5
    assert "## 五、存在的主要问题及改进情况" in to_markdown(report)
    # An official document's look: black headings in 黑体/楷体 (not Word's blue), the title
    # in 小标宋 without the template's rule, body 仿宋 三号.
    from docx.oxml.ns import qn

    for name, face in (
        ("Title", "方正小标宋简体"),
        ("Heading 1", "黑体"),
        ("Heading 2", "楷体_GB2312"),
    ):
        style = doc.styles[name]
        assert style.font.color.rgb == (0, 0, 0) and not style.font.bold
        assert style.element.rPr.rFonts.get(qn("w:eastAsia")) == face
    assert doc.styles["Title"].element.pPr.find(qn("w:pBdr")) is None
    assert doc.styles["Normal"].font.size.pt == 16


def test_a_clean_year_says_so_plainly(directory: str) -> None:
    _build(directory, "monthly-filing", ["2026-11"])
    for item in _items("monthly-filing", "2026-11").values():
        _finish(item, -2)
    report = _report(directory)
    five = _text(problems(report))
    assert "2026年，全区各项政务公开重点工作事项均按时完成，报送材料未出现审核退回的情况。" in five
    assert "一是" not in five.split("（二）")[0] and "主要集中在" not in five
    assert "二是" not in five
    six = _text(other_matters(report))
    # No plan imported: the office is told what to fill and why.
    assert "【待填写：贯彻落实2026年政务公开工作要点情况（系统中没有2026年的工作要点）】" in six


def test_a_filing_awaiting_review_is_not_done_yet(directory: str) -> None:
    """待审核 (handed in, not yet 通过) is not done, as the 通报 counts it: with every other
    filing done on time the year is not 「均按时完成」 until the office passes it."""
    _build(directory, "monthly-filing", ["2026-11"])
    items = _items("monthly-filing", "2026-11")
    jyj = items.pop("区教育局")
    for item in items.values():
        _finish(item, -2)
    with session_scope() as s:
        submit(
            session=s,
            item_id=jyj.id,  # type: ignore[arg-type]
            unit_id=jyj.unit_id,
            evidence=EVIDENCE,
            now=datetime.combine(jyj.due, datetime.min.time(), tzinfo=UTC),
        )
    five = _text(problems(_report(directory)))
    assert "均按时完成" not in five
    assert (
        "全区应完成的政务公开重点工作事项共5项，其中截至2027年1月6日仍未完成1项"
        "（其中已报送待审核1项），主要集中在“新增非密公文全量备案”（1项），涉及区教育局。" in five
    )
    with session_scope() as s:
        accept(session=s, item_id=jyj.id, by="王静")  # type: ignore[arg-type]
    five = _text(problems(_report(directory)))
    assert "2026年，全区各项政务公开重点工作事项均按时完成" in five
