"""Smoke test of the registry: every obligation has a flow, a deployment in prefect.yaml,
templates that render, and due rules that evaluate."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml
from sqlmodel import select

from deployments.spec import render_yaml, specs
from models.unit import Unit, UnitKind
from notifications.render import render, template_names
from tests.cli import Result, run_inprocess, run_subprocess
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


def _deployments_write(tmp_path: Path, *args: str) -> Result:
    return run_subprocess(
        "deployments", "write", *args, env={"ZWGK_VAR_DIR": str(tmp_path / "var")}
    )


def test_prefect_yaml_is_what_zwgk_deployments_write_writes(tmp_path: Path) -> None:
    r = _deployments_write(tmp_path, "--check", "--file", str(ROOT / "prefect.yaml"))
    assert r.code == 0, f"run `zwgk deployments write` and commit prefect.yaml: {r.err}"
    assert f"一致（{len(specs())} 个），未作改动" in r.out
    assert (ROOT / "prefect.yaml").read_text(encoding="utf-8").endswith(render_yaml())
    assert set(DEPLOYMENTS) == {s.name for s in specs()}


def test_deployments_write_rewrites_the_section_and_keeps_the_header(tmp_path: Path) -> None:
    original = (ROOT / "prefect.yaml").read_bytes()
    path = tmp_path / "prefect.yaml"
    # Drift: a schedule edited by hand, the last deployment gone.
    head, _, _ = original.rpartition(b"  - name: ")
    drifted = head.replace(b'cron: "0 9 1 * *"', b'cron: "0 8 1 * *"', 1)
    assert drifted != head
    path.write_bytes(drifted)

    r = _deployments_write(tmp_path, "--check", "--file", str(path))
    assert r.code == 1 and r.out == ""
    assert r.err == (
        f"错误：{path} 的部署与事项登记不一致：请运行 zwgk deployments write 重新生成后提交\n"
    )
    assert path.read_bytes() == drifted  # --check writes nothing

    r = _deployments_write(tmp_path, "--file", str(path))
    assert r.code == 0 and r.out == f"已按事项登记重新生成 {path} 的部署（{len(specs())} 个）。\n"
    assert path.read_bytes() == original
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == []

    # The hand-written header is the maintainer's: kept byte for byte.
    noted = original.replace(b"name: zwgk\n", b"# a local note\nname: zwgk\n", 1)
    path.write_bytes(noted)
    r = _deployments_write(tmp_path, "--file", str(path))
    assert r.code == 0 and "未作改动" in r.out
    assert path.read_bytes() == noted


def test_deployments_write_refuses_a_file_without_the_section(tmp_path: Path) -> None:
    path = tmp_path / "prefect.yaml"
    path.write_text("name: zwgk\ndeployments: []\n", encoding="utf-8")
    r = _deployments_write(tmp_path, "--file", str(path))
    assert r.code == 2 and "Traceback" not in r.err
    assert r.err == (
        f"错误：{path} 中没有单独一行的「deployments:」：部署一节应从该行开始，位于文件末尾\n"
    )
    assert path.read_text(encoding="utf-8") == "name: zwgk\ndeployments: []\n"
    r = _deployments_write(tmp_path, "--file", str(tmp_path / "missing.yaml"))
    assert r.code == 2 and "找不到" in r.err and "missing.yaml" in r.err


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


def _readme_example() -> str:
    """The code block of the README's "Adding an obligation" section."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Adding an obligation", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def test_the_readme_example_obligation_builds_the_quarter_just_ended(
    directory: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Declared as the README writes it, in a registry of its own for this test."""
    import workflows.registry as registry
    from models import ChecklistItem, HolidayOverride
    from workflows.engine import build_checklist
    from workflows.obligation import previous_quarter
    from zwgk.config import get_settings
    from zwgk.db import session_scope

    names = {**vars(registry), "previous_quarter": previous_quarter}  # as the README says
    exec(_readme_example(), names)
    ob = names["SELF_CHECK"]
    monkeypatch.setitem(REGISTRY, ob.slug, ob)

    # The scheduled run on 1 April works on the first quarter, not the one it is in.
    assert str(ob.period_for(date(2026, 4, 1))) == "2026-Q1"
    assert str(ob.period_for(date(2027, 1, 1))) == "2026-Q4"

    with session_scope() as s:  # 2026's 清明 holidays, whatever the installed calendar knows
        for day in (4, 5, 6):
            s.add(HolidayOverride(day=date(2026, 4, day), kind="holiday", name="清明节"))
    r = run_inprocess(capsys, "run", ob.slug, "--today", "2026-04-01", "--dry-run")
    assert r.code == 0, r.err
    assert r.out.startswith(
        f"[演练] 政务新媒体季度自查（2026年第一季度，{directory}）：将新建事项 6 条"
    )
    with session_scope() as s:
        result = build_checklist(
            session=s, ob=ob, period=ob.period_for(date(2026, 4, 1)), settings=get_settings()
        )
    assert result.created == 6
    with session_scope() as s:
        items = list(s.exec(select(ChecklistItem).where(ChecklistItem.obligation == ob.slug)))
    assert {i.period for i in items} == {"2026-Q1"}
    # 10 and 15 working days after 31 March, the 清明 holidays (4–6 April) left out.
    assert sorted((i.step, i.due) for i in items)[-2:] == [
        ("check", date(2026, 4, 15)),
        ("review", date(2026, 4, 22)),
    ]

    # One command puts its deployment into prefect.yaml; the header stays as it was.
    path = tmp_path / "prefect.yaml"
    original = (ROOT / "prefect.yaml").read_text(encoding="utf-8")
    path.write_text(original, encoding="utf-8")
    r = run_inprocess(capsys, "deployments", "write", "--file", str(path))
    assert r.code == 0, r.err
    written = path.read_text(encoding="utf-8")
    header = original.split("\ndeployments:\n")[0]
    assert written.startswith(header + "\ndeployments:\n")
    entry = yaml.safe_load(written)["deployments"]
    (dep,) = [d for d in entry if d["name"] == "media-self-check"]
    assert dep["entrypoint"] == "workflows/flows.py:media_self_check"
    assert dep["schedules"] == [
        {"cron": "0 9 1 1,4,7,10 *", "timezone": "Asia/Shanghai", "active": True}
    ]
