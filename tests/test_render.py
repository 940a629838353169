"""Mail templates write exactly what stock Jinja autoescaping writes (``render`` swaps in a
faster escape for output: it must change the speed only, never a byte)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

import pytest
from jinja2 import DictLoader, Environment, Template, UndefinedError
from markupsafe import Markup

from notifications.render import _escape_output, _Template, environment, sender_for
from workflows import reminder_views as rv
from workflows.engine import ItemView
from workflows.registry import REGISTRY

HOSTILE = "<script>alert('x')</script> & \"引号\" 区<教育>局"


class Kind(StrEnum):
    lead = "牵头<单位>"


def _pair(loader: Any = None) -> tuple[Environment, Environment]:
    """Our environment and the same one with Jinja's own template class."""
    ours = environment() if loader is None else environment().overlay(loader=loader)
    stock = ours.overlay()
    stock.template_class = Template
    return ours, stock


VALUES: list[Any] = [
    HOSTILE,
    "",
    0,
    -12,
    True,
    None,
    3.5,
    date(2026, 11, 30),
    Markup("<b>已逾期</b>"),
    Kind.lead,
    ["a<b", 1],
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_each_kind_of_value_is_escaped_as_jinja_does(value: Any) -> None:
    ours, stock = _pair(DictLoader({"t.html": "<p>{{ v }}|{{ v ~ '<&>' }}|{{ [v] }}</p>"}))
    mine, theirs = ours.get_template("t.html"), stock.get_template("t.html")
    assert type(mine) is _Template and type(theirs) is Template
    # The hook took (a Jinja that renamed it would leave the slow escape in silently).
    assert mine.root_render_func.__globals__["escape"] is _escape_output
    assert mine.render(v=value) == theirs.render(v=value)


def test_text_templates_are_not_escaped_and_undefined_still_fails() -> None:
    ours, _ = _pair(DictLoader({"t.txt": "{{ v }}", "u.html": "{{ missing }}"}))
    assert ours.get_template("t.txt").render(v=HOSTILE) == HOSTILE
    with pytest.raises(UndefinedError):
        ours.get_template("u.html").render()


def _contexts() -> list[tuple[str, str, dict[str, Any]]]:
    ob = REGISTRY["work-plan"]
    sender = sender_for(None)
    unit = {"name": HOSTILE, "district": "某区<>"}
    items = [
        ItemView(i, f"任务{i}{HOSTILE}", HOSTILE if i % 2 else "", "负责", date(2026, 12, 15),
                 date(2026, 12, 1) if i == 3 else None, i == 2, i == 1)
        for i in range(1, 5)
    ]  # fmt: skip
    views = [
        rv.ItemView(i, "政务公开工作要点任务", "2026", f"任务（2026年度）{HOSTILE}", HOSTILE, "负责",
                    date(2026, 11, 25), "2026年11月25日（星期三）", "已逾期 3 个工作日",
                    i % 2 == 0, 3, False)
        for i in range(1, 5)
    ]  # fmt: skip
    behind = [
        rv.UnitBehind(HOSTILE, "张<三>", "a&b@example.cn" if u else "", views) for u in (0, 1)
    ]
    return [
        ("assignment", ob.template_dir, dict(
            obligation=ob, period=ob.parse_period("2026"), unit=unit, office=None,
            link="http://x/u/1?a=1&b=<2>", today=date(2026, 11, 30), items=items, late=1,
            subject="", sender=sender)),
        ("reminder", "reminder", dict(
            unit=unit, overdue=[v for v in views if v.overdue],
            upcoming=[v for v in views if not v.overdue], today=date(2026, 11, 30),
            link="http://x/u/1?a=1&b=2", escalation=True, office=None, reported=True,
            lead_names=[HOSTILE], subject="", sender=sender)),
        ("overdue-summary", "reminder", dict(
            unit=unit, units=behind, items=8, lead=True, today=date(2026, 11, 30), subject="",
            sender=sender)),
    ]  # fmt: skip


@pytest.mark.parametrize("kind,template_dir,context", _contexts(), ids=lambda v: str(v)[:20])
def test_the_mails_are_byte_for_byte_what_stock_jinja_writes(
    kind: str, template_dir: str, context: dict[str, Any]
) -> None:
    ours, stock = _pair()
    for ext in ("subject.txt", "html", "txt"):
        names = [f"{template_dir}/{kind}.{ext}", f"{kind}.{ext}"]
        mine = ours.select_template(names).render(**context)
        assert mine == stock.select_template(names).render(**context)
        if ext == "html":
            assert HOSTILE not in mine and "&lt;script&gt;" in mine
