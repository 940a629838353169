"""Smoke test of the registry: every obligation has a flow, a deployment in prefect.yaml,
templates that render, and due rules that evaluate."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from deployments.spec import render_yaml, specs
from models.unit import Unit, UnitKind
from notifications.render import render, template_names
from workflows.flows import FLOWS
from workflows.obligation import Obligation
from workflows.registry import REGISTRY
from workflows.workcal import WorkCalendar
from zwgk.config import SHANGHAI, Settings

ROOT = Path(__file__).parents[1]
PREFECT_YAML = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
DEPLOYMENTS = {d["name"]: d for d in PREFECT_YAML["deployments"]}

OBLIGATIONS = list(REGISTRY.values())
IDS = list(REGISTRY)


def test_the_five_statutory_obligations_are_registered() -> None:
    assert set(REGISTRY) >= {
        "monthly-filing",
        "decision-catalogue",
        "open-month",
        "annual-report",
        "quarterly-progress",
    }


@pytest.mark.parametrize("ob", OBLIGATIONS, ids=IDS)
def test_has_a_flow(ob: Obligation) -> None:
    flow = FLOWS[ob.slug]
    assert flow.name == ob.slug
    import workflows.flows as module

    assert getattr(module, ob.func_name) is flow
    # Parameters render as a form in the Prefect UI.
    assert set(flow.parameters.properties) == {"period", "today", "district"}


@pytest.mark.parametrize("ob", OBLIGATIONS, ids=IDS)
def test_has_a_deployment_in_prefect_yaml(ob: Obligation) -> None:
    dep = DEPLOYMENTS[ob.slug]
    assert dep["entrypoint"] == f"workflows/flows.py:{ob.func_name}"
    assert (ROOT / dep["entrypoint"].split(":")[0]).exists()
    assert [s["cron"] for s in dep["schedules"]] == [ob.cron]
    assert all(s["timezone"] == SHANGHAI for s in dep["schedules"])


def test_prefect_yaml_matches_the_registry_exactly() -> None:
    text = (ROOT / "prefect.yaml").read_text(encoding="utf-8")
    assert text.endswith(render_yaml()), "regenerate with: python -m deployments.spec"
    assert set(DEPLOYMENTS) == {s.name for s in specs()}


def test_prefect_yaml_holds_no_secret() -> None:
    text = (ROOT / "prefect.yaml").read_text(encoding="utf-8").lower()
    assert "password:" not in text and "smtp_password" not in text.replace("zwgk_smtp_password", "")


@pytest.mark.parametrize("ob", OBLIGATIONS, ids=IDS)
def test_due_rules_evaluate_and_templates_render(ob: Obligation) -> None:
    settings = Settings()
    period = ob.period_for(__import__("datetime").date(2026, 6, 15))
    cal = WorkCalendar()
    unit = Unit(
        id=1,
        district="测试区",
        name="区教育局",
        kind=UnitKind.department,
        email="a@b.example.cn",
        contact="陈丽",
    )
    items = []
    if ob.planner is not None:  # the work plan: steps come from the imported table
        items.append(
            {
                "id": 1,
                "step_title": "第1项 做好公文公开",
                "detail": "",
                "role_label": "牵头",
                "due": period.end,
                "window_start": None,
                "provisional": False,
            }
        )
    for i, step in enumerate(ob.steps, 1):
        due = step.due(period, cal, settings)
        assert due.due >= period.start
        assert step.due.describe()
        items.append(
            {
                "id": i,
                "step_title": step.title,
                "detail": step.detail,
                "role_label": "负责",
                "due": due.due,
                "window_start": due.window_start,
                "provisional": due.provisional,
            }
        )
    assert all(template_names("assignment", ob.template_dir))
    out = render(
        "assignment",
        ob.template_dir,
        obligation=ob,
        period=period,
        unit=unit,
        items=items,
        subject="",
        today=date(2026, 6, 15),
        link="http://127.0.0.1:8000/u/token",
    )
    assert "http://127.0.0.1:8000/u/token" in out.text
    assert ob.title in out.subject and "区教育局" in out.subject
    assert all(step.title in out.text for step in ob.steps)
    assert "<table" in out.html


def test_served_deployments_cover_every_spec_with_a_shanghai_schedule() -> None:
    """What `zwgk serve` / `make run` serves: every obligation, the reminders, the outbox."""
    from deployments.serve import build_deployments
    from deployments.spec import specs

    deployments = build_deployments()
    assert [d.name for d in deployments] == [s.name for s in specs()]
    assert {"reminders", "outbox"} <= {d.name for d in deployments}
    for d, s in zip(deployments, specs(), strict=True):
        assert d.flow_name == s.flow_name
        (schedule,) = d.schedules
        assert schedule.schedule.cron == s.cron and schedule.schedule.timezone == "Asia/Shanghai"
