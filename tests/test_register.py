"""The office's register (DOMAIN.md, "How the office writes") in every mail template: every
template of every registered obligation, event kind and reminder renders with 你单位, the
basis once, Chinese dates and periods, and a 落款 from the settings of the unit's district."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from models.checklist import ChecklistItem, Role
from models.unit import Unit, UnitKind
from notifications.render import Rendered, render
from tests.test_web import _get, _link_for  # the `web` fixture is in conftest
from workflows.events import EVENT_KINDS
from workflows.registry import REGISTRY
from workflows.reminder_views import ItemView, UnitBehind
from workflows.workcal import WorkCalendar
from zwgk.config import Settings, get_settings, reset_settings
from zwgk.errors import UserError
from zwgk.periods import Cadence, Period

# 2026-11, 2026-Q4, 2026-11-16 (a phone number such as 021-22050000 is not a date).
RAW = re.compile(r"(?<!\d)\d{4}-(?:0[1-9]|1[0-2])(?!\d)|\d{4}-\d{2}-\d{2}|\d{4}-?[Qq][1-4]")
TODAY = date(2026, 11, 30)
LINK = "http://127.0.0.1:8000/u/abc-2026-11-30"


def _readable(text: str) -> str:
    """Links and mail addresses taken out (they may hold digits and dashes)."""
    return re.sub(r"https?://\S+|[\w.+-]+@[\w.-]+", "", text)


@pytest.fixture
def offices(env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("ZWGK_OFFICE_NAME", "长宁区人民政府办公室（政务公开办）")
    monkeypatch.setenv("ZWGK_OFFICE_CONTACT", "王芳")
    monkeypatch.setenv("ZWGK_OFFICE_PHONE", "021-22050000")
    monkeypatch.setenv(
        "ZWGK_OFFICES",
        json.dumps(
            {"宝山区": {"name": "宝山区人民政府办公室", "contact": "李明", "phone": "021-56690000"}}
        ),
    )
    reset_settings()
    yield
    reset_settings()


def _unit(district: str = "长宁区", name: str = "区民政局") -> Unit:
    return Unit(
        id=7, district=district, name=name, kind=UnitKind.department, email="mz@example.gov.cn",
        contact="陈丽",
    )  # fmt: skip


def _check(out: Rendered, *, unit: Unit, office: tuple[str, str, str]) -> None:
    """What a 联络员 must see in every mail, in subject, text and HTML."""
    for part in (out.subject, out.text, out.html):
        assert "贵单位" not in part and "请贵" not in part
        found = RAW.search(_readable(part))
        assert found is None, f"raw date or period code {found.group()!r} in {part!r}"
    name, contact, phone = office
    assert out.text.startswith(f"{unit.name}：\n")
    assert f"<p>{unit.name}：</p>" in out.html
    signoff = (
        f"{name}\n联系人：{contact}，联系电话：{phone}\n{TODAY.year}年{TODAY.month}月{TODAY.day}日"
    )
    assert signoff in out.text
    assert f"{name}<br>" in out.html and f"联系人：{contact}，联系电话：{phone}<br>" in out.html


def _assignment_items(ob: Any, period: Period) -> list[dict[str, Any]]:
    cal, settings = WorkCalendar(), Settings()
    items = [
        {"id": 1, "step_title": "第1项 做好公文公开", "detail": "", "role_label": "牵头",
         "due": period.end, "window_start": None, "provisional": False},
    ]  # fmt: skip
    for i, step in enumerate(ob.steps, 2):
        due = step.due(period, cal, settings)
        items.append(
            {"id": i, "step_title": step.title, "detail": step.detail, "role_label": "负责",
             "due": due.due, "window_start": due.window_start, "provisional": due.provisional}
        )  # fmt: skip
    return items


DISTRICTS = {
    "长宁区": ("长宁区人民政府办公室（政务公开办）", "王芳", "021-22050000"),
    "宝山区": ("宝山区人民政府办公室", "李明", "021-56690000"),
}


@pytest.mark.parametrize("district", list(DISTRICTS))
@pytest.mark.parametrize("slug", list(REGISTRY))
def test_assignment_mail_reads_like_the_office_wrote_it(
    offices: None, slug: str, district: str
) -> None:
    ob = REGISTRY[slug]
    period = ob.period_for(date(2026, 11, 15))
    unit = _unit(district)
    out = render(
        "assignment", ob.template_dir, obligation=ob, period=period, unit=unit,
        items=_assignment_items(ob, period), link=LINK, today=TODAY, subject="",
    )  # fmt: skip
    _check(out, unit=unit, office=DISTRICTS[district])
    assert period.label in out.subject and period.label in out.text
    # The basis once, cited as something that reads after 根据 (no run-on clause).
    assert out.text.count(ob.basis) == 1 and out.html.count(ob.basis) == 1
    assert f"根据{ob.basis}，现将" in out.text
    assert "你单位" in out.text and "你单位" in out.html


def test_quarterly_and_monthly_periods_are_written_out(offices: None) -> None:
    ob = REGISTRY["quarterly-progress"]
    out = render(
        "assignment", ob.template_dir, obligation=ob, period=Period(Cadence.quarterly, 2026, 4),
        unit=_unit(), items=[], link=LINK, today=TODAY, subject="",
    )  # fmt: skip
    assert "（2026年第四季度）" in out.subject and "2026-Q4" not in out.text
    ob = REGISTRY["monthly-filing"]
    out = render(
        "assignment", ob.template_dir, obligation=ob, period=Period(Cadence.monthly, 2026, 12),
        unit=_unit(), items=_assignment_items(ob, Period(Cadence.monthly, 2026, 12)), link=LINK,
        today=TODAY, subject="",
    )  # fmt: skip
    assert "（2026年12月）" in out.text
    assert "2026年12月25日（星期五）前" in out.text


@pytest.mark.parametrize("district", list(DISTRICTS))
@pytest.mark.parametrize("slug", list(EVENT_KINDS))
def test_event_mail(offices: None, slug: str, district: str) -> None:
    kind = EVENT_KINDS[slug]
    unit = _unit(district)
    item = ChecklistItem(
        id=42, obligation=kind.obligation, period="2026-11-16", unit_id=7, step="ref-x",
        step_title=kind.title, role=Role.responsible, due=date(2026, 12, 14), provisional=False,
    )  # fmt: skip
    out = render(
        "event", kind.slug, event=kind, unit=unit, item=item, on=date(2026, 11, 16),
        ref="长民申〔2026〕12号", link=LINK, today=TODAY, subject="",
    )  # fmt: skip
    _check(out, unit=unit, office=DISTRICTS[district])
    assert out.text.count(kind.basis) == 1
    assert "请你单位于2026年12月14日（星期一）前完成" in out.text
    assert "12月14日前" in out.subject


def _view(iid: int, due: date, overdue: bool) -> ItemView:
    return ItemView(
        iid, "新增非密公文全量备案", "2026-11", "新增非密公文全量备案（2026年11月）",
        "完成备案", "负责", due, f"{due.year}年{due.month}月{due.day}日",
        "已逾期 3 个工作日" if overdue else "还剩 2 个工作日", overdue, 3 if overdue else 0,
        False,
    )  # fmt: skip


@pytest.mark.parametrize("district", list(DISTRICTS))
def test_reminder_and_summaries(offices: None, district: str) -> None:
    unit = _unit(district)
    late, soon = _view(1, date(2026, 11, 25), True), _view(2, date(2026, 12, 2), False)
    out = render(
        "reminder", "reminder", unit=unit, overdue=[late], upcoming=[soon], today=TODAY,
        link=LINK, escalation=True, office=None, reported=True, lead_names=[], subject="",
    )  # fmt: skip
    _check(out, unit=unit, office=DISTRICTS[district])
    assert f"报送{DISTRICTS[district][0]}的逾期汇总" in out.text
    behind = [UnitBehind("区教育局", "张三", "jy@example.gov.cn", [late])]
    lead = render(
        "overdue-summary", "reminder", unit=unit, units=behind, items=1, lead=True, today=TODAY,
        subject="",
    )  # fmt: skip
    _check(lead, unit=unit, office=DISTRICTS[district])
    # The office's own summary is a report to it: no 落款 of its own name.
    office = Unit(
        id=1, district=district, name="区政府办公室", kind=UnitKind.office, email="o@x.cn"
    )
    summary = render(
        "overdue-summary", "reminder", unit=office, units=behind, items=1, lead=False,
        today=TODAY, subject="",
    )  # fmt: skip
    assert "联系人：" not in summary.text and not RAW.search(_readable(summary.text))


def test_office_contact_falls_back_to_the_directory(env: Path) -> None:
    """With no ZWGK_OFFICE_CONTACT, the district's office unit's contact signs the digest."""
    office = Unit(
        id=1, district="测试区", name="区政府办公室", kind=UnitKind.office, email="o@x.cn",
        contact="王静",
    )  # fmt: skip
    out = render(
        "reminder", "reminder", unit=_unit("测试区"), overdue=[], upcoming=[_view(2, TODAY, False)],
        today=TODAY, link=LINK, escalation=False, office=office, reported=False, lead_names=[],
        subject="",
    )  # fmt: skip
    assert "区政府办公室（政务公开办）\n联系人：王静\n2026年11月30日" in out.text


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('{"宝山区": ', "ZWGK_OFFICES 不是有效的 JSON"),
        ('["宝山区"]', "ZWGK_OFFICES 应为以区名为键的 JSON 对象"),
        ('{"宝山区": "李明"}', "「宝山区」的值应为对象"),
        ('{"宝山区": {"phnoe": "021"}}', "字段「phnoe」无法识别，是否为「phone」？"),
        ('{"宝山区": {"phone": 21}}', "字段「phone」应为文字"),
    ],
)
def test_bad_offices_setting_is_one_chinese_message(
    env: Path, monkeypatch: pytest.MonkeyPatch, value: str, message: str
) -> None:
    monkeypatch.setenv("ZWGK_OFFICES", value)
    reset_settings()
    with pytest.raises(UserError) as exc:
        get_settings()
    assert message in exc.value.message and exc.value.message.startswith("环境变量设置有误")


def test_quarter_labels_use_chinese_numerals() -> None:
    assert [Period(Cadence.quarterly, 2026, q).label for q in (1, 2, 3, 4)] == [
        "2026年第一季度", "2026年第二季度", "2026年第三季度", "2026年第四季度",
    ]  # fmt: skip


def test_annual_report_cites_article_49() -> None:
    basis = REGISTRY["annual-report"].basis
    assert "第四十九条" in basis and "第五十条" not in basis
    for ob in [*REGISTRY.values(), *EVENT_KINDS.values()]:
        assert "；" not in ob.basis and "：" not in ob.basis, ob.basis


@pytest.mark.usefixtures("web")  # `zwgk web` serving the links the mails carry
def test_unit_page_and_real_mail_show_chinese_periods(
    directory: str, smtp: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the engine, the outbox, the loopback SMTP server and `zwgk web`: the mails and
    the unit page write periods and dates in Chinese and are signed by the configured office."""
    from notifications.outbox_send import dispatch
    from workflows.engine import build_checklist
    from zwgk.db import session_scope

    monkeypatch.setenv(
        "ZWGK_OFFICES", json.dumps({directory: {"contact": "赵敏", "phone": "021-1"}})
    )
    reset_settings()
    for slug, period in (("quarterly-progress", "2026-Q4"), ("monthly-filing", "2026-12")):
        ob = REGISTRY[slug]
        with session_scope() as s:
            build_checklist(
                session=s, ob=ob, period=ob.parse_period(period), settings=get_settings(),
                today=TODAY,
            )  # fmt: skip
    assert dispatch(settings=get_settings()).ok
    mails = [m for m in smtp.messages if m.rcpt_tos == ["jyj@test.example.gov.cn"]]
    assert len(mails) == 2
    for m in mails:
        for part in (m.subject, m.text(), m.html()):
            assert "贵单位" not in part and not RAW.search(_readable(part)), part
        assert (
            "区政府办公室（政务公开办）\n联系人：赵敏，联系电话：021-1\n2026年11月30日" in m.text()
        )
    status, page = _get(_link_for(smtp, "jyj@test.example.gov.cn"))
    assert status == 200
    assert "（2026年第四季度）" in page and "（2026年12月）" in page
    assert not RAW.search(_readable(re.sub(r"<[^>]+>", " ", page))), RAW.search(page)


def test_assignment_and_event_mail_are_signed_with_the_directory_contact(
    sample_directory: str,
) -> None:
    """With no ZWGK_OFFICE_CONTACT, the office unit's contact (王静 in the sample) signs the
    assignment and event notices too, as it signs the reminder digests."""
    from datetime import date

    from sqlmodel import select

    from models import OutboxMessage
    from models.unit import Unit
    from workflows.engine import build_checklist
    from workflows.events import EVENT_KINDS, record_event
    from workflows.registry import get_obligation
    from zwgk.config import get_settings
    from zwgk.db import session_scope

    ob = get_obligation("monthly-filing")
    with session_scope() as s:
        build_checklist(
            session=s,
            ob=ob,
            period=ob.parse_period("2026-11"),
            settings=get_settings(),
            today=date(2026, 11, 2),
        )
        unit = s.exec(select(Unit).where(Unit.name == "区教育局")).one()
        record_event(
            session=s,
            kind=EVENT_KINDS["message-reply"],
            unit=unit,
            on=date(2026, 11, 2),
            ref="留言 2026-7",
            settings=get_settings(),
        )
    with session_scope() as s:
        mails = list(s.exec(select(OutboxMessage)))
    assert {m.kind for m in mails} >= {"assignment"} and len(mails) == 51
    for m in mails:
        assert "区政府办公室（政务公开办）\n联系人：王静" in m.body_text, m.key
