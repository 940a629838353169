"""Event-driven deadlines and administrator actions (waive, reopen)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlmodel import select

from tests.cli import run_inprocess
from tests.smtpd import SMTPServer
from zwgk.db import session_scope
from zwgk.models import ChecklistItem, ItemEvent


def test_record_event_creates_item_with_workday_deadline(
    directory: str, smtp: SMTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    r = run_inprocess(
        capsys,
        "event",
        "record",
        "decision-feedback",
        "--unit",
        "区发改委",
        "--date",
        "2026-09-28",
        "--ref",
        "长发改〔2026〕12号",
    )
    assert r.code == 0, r.err
    with session_scope() as s:
        item = s.exec(select(ChecklistItem)).one()
    # 10 working days from 09-28: 09-29, 09-30, 10-08, 10-09, 10-10 (调休), 10-12 … 10-16.
    assert item.due == date(2026, 10, 16) and item.obligation == "decision-feedback"
    assert "已登记事项" in r.out and "须于2026年10月16日（星期五）前完成" in r.out
    assert len(smtp.messages) == 1 and "长发改〔2026〕12号" in smtp.messages[0].subject
    again = run_inprocess(
        capsys,
        "event",
        "record",
        "decision-feedback",
        "--unit",
        "区发展改革委",
        "--date",
        "2026-09-28",
        "--ref",
        "长发改〔2026〕12号",
    )
    assert again.code == 0 and "未重复创建" in again.out
    assert len(smtp.messages) == 1


def test_event_item_goes_through_reminders(directory: str, smtp: SMTPServer) -> None:
    from zwgk.config import get_settings
    from zwgk.directory import find_unit
    from zwgk.notifications.outbox import dispatch
    from zwgk.workflows.events import EVENT_KINDS, record_event
    from zwgk.workflows.reminders import sweep

    with session_scope() as s:
        unit = find_unit(session=s, name="区教育局")
        item, _ = record_event(
            session=s,
            kind=EVENT_KINDS["message-reply"],
            unit=unit,
            on=date(2026, 11, 16),
            ref="留言 20261116-0031",
            settings=get_settings(),
        )
    assert item.due == date(2026, 11, 23)
    with session_scope() as s:
        sweep(session=s, settings=get_settings(), today=date(2026, 11, 24))
    dispatch(settings=get_settings())
    assert any("答复网上留言" in m.text() and "已逾期" in m.text() for m in smtp.messages)


def test_provisional_event_deadline(
    directory: str, capsys: pytest.CaptureFixture[str], smtp: SMTPServer
) -> None:
    r = run_inprocess(
        capsys,
        "event",
        "record",
        "application-reply",
        "--unit",
        "新泾镇",
        "--date",
        "2026-12-20",
        "--ref",
        "依申请 2026-118",
    )
    assert r.code == 0 and "（暂定）" in r.out


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (
            ["event", "record", "nope", "--unit", "区教育局", "--date", "2026-11-02", "--ref", "x"],
            "nope",
        ),
        (
            [
                "event",
                "record",
                "message-reply",
                "--unit",
                "区不存在局",
                "--date",
                "2026-11-02",
                "--ref",
                "x",
            ],
            "区不存在局",
        ),
        (
            [
                "event",
                "record",
                "message-reply",
                "--unit",
                "区教育局",
                "--date",
                "2026-11-31",
                "--ref",
                "x",
            ],
            "2026-11-31",
        ),
        (
            [
                "event",
                "record",
                "message-reply",
                "--unit",
                "区教育局",
                "--date",
                "2026-11-02",
                "--ref",
                " ",
            ],
            "--ref",
        ),
    ],
)
def test_event_bad_input(
    directory: str, capsys: pytest.CaptureFixture[str], args: list[str], fragment: str
) -> None:
    r = run_inprocess(capsys, *args)
    assert r.code == 2 and fragment in r.err and "Traceback" not in r.err
    with session_scope() as s:
        assert list(s.exec(select(ChecklistItem))) == []


def test_waive_and_reopen_are_recorded(
    directory: str, smtp: SMTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    from zwgk.config import get_settings
    from zwgk.workflows.engine import build_checklist
    from zwgk.workflows.registry import REGISTRY

    ob = REGISTRY["monthly-filing"]
    with session_scope() as s:
        build_checklist(
            session=s, ob=ob, period=ob.parse_period("2026-11"), settings=get_settings()
        )
        item_id = s.exec(select(ChecklistItem.id)).first()
    bad = run_inprocess(capsys, "waive", str(item_id))
    assert bad.code == 2 and "理由" in bad.err
    assert run_inprocess(capsys, "waive", "999", "--reason", "x").code == 2
    assert (
        run_inprocess(
            capsys, "waive", str(item_id), "--reason", "本月无新增公文", "--by", "王静"
        ).code
        == 0
    )
    rows = json.loads(run_inprocess(capsys, "status", "--json").out)
    assert next(r for r in rows if r["id"] == item_id)["status"] == "waived"
    assert run_inprocess(capsys, "reopen", str(item_id), "--by", "王静").code == 0
    with session_scope() as s:
        events = [
            (e.action, e.by, e.reason)
            for e in s.exec(select(ItemEvent).where(ItemEvent.item_id == item_id))
        ]
        assert s.get(ChecklistItem, item_id).status == "pending"  # type: ignore[union-attr]
    assert events == [("waive", "王静", "本月无新增公文"), ("reopen", "王静", "")]
