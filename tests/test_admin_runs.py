# ruff: noqa: F811  (the fixtures imported from test_admin_web are the tests' arguments)
"""Flow runs from the workbench (/admin/runs): every authorisation rule over HTTP, a trigger
that creates a real flow run of a real deployment on the session's Prefect test server
(registered here as ``zwgk serve`` registers it; no worker runs it), its state on the page,
a double submission that starts one run, and ``zwgk web`` without any Prefect server (503)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.smtpd import free_port
from tests.test_admin_web import (  # noqa: F401  (fixtures)
    OTHER,
    PASSWORD,
    _audit,
    _screenshot,
    accounts,
    client,
    items,
    login,
)
from zwgk import clock


@pytest.fixture
def on_30_november() -> Iterator[None]:
    """Today held at 30 November 2026 (14:00 in Shanghai) in this process, where the app
    reads it (TestClient, or uvicorn in a thread): the form offers the periods around today,
    so the ones these tests pick (2026年10月, 11月, 第四季度) stay on offer after 2026."""
    with clock.frozen(datetime(2026, 11, 30, 6, 0, tzinfo=UTC)):
        yield


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def _form(html: str, slug: str) -> dict[str, str]:
    """The hidden fields and preselected values of ``slug``'s start form on /admin/runs."""
    row = re.search(rf'<tr id="start-{slug}">(.*?)</tr>', html, re.S)
    assert row, html
    text = row.group(1)
    fields = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', text))
    selected = re.search(r'<select name="period">.*?<option value="([^"]+)" selected', text, re.S)
    if selected:  # the reminders' row has none: today's sweep
        fields["period"] = selected.group(1)
    return fields


@pytest.fixture(scope="module")
def deployed(prefect_harness: None) -> str:
    """monthly-filing's and the reminders' deployments on the test server, as ``zwgk serve``
    registers them."""
    from deployments.serve import build_deployments

    for deployment in build_deployments():
        if deployment.name in ("monthly-filing", "reminders"):
            deployment.apply()
    from prefect.settings import PREFECT_API_URL

    return str(PREFECT_API_URL.value())


def _runs(api: str) -> list[Any]:
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName

    with SyncPrefectClient(api) as c:
        return list(
            c.read_flow_runs(
                deployment_filter=DeploymentFilter(
                    name=DeploymentFilterName(any_=["monthly-filing"])
                )
            )
        )


# --------------------------------------------------------------------------- who may do what


def test_anonymous_is_sent_to_login(client: TestClient) -> None:
    for path in ("/admin/runs", "/admin/runs/0b0b0b0b-0000-0000-0000-000000000000"):
        r = client.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/admin/login")
    r = client.post("/admin/runs", data={"obligation": "monthly-filing", "csrf_token": "x"})
    assert r.status_code == 303 and r.headers["location"].startswith("/admin/login")
    assert not _audit("run")


@pytest.mark.prefect
def test_viewer_and_missing_csrf_start_nothing(
    client: TestClient, items: dict[str, list[int]], accounts: None, deployed: str
) -> None:
    before = len(_runs(deployed))
    csrf = login(client, "lingdao")
    page = client.get("/admin/runs")
    assert page.status_code == 200 and "只读账号" in page.text
    assert 'action="/admin/runs"' not in page.text  # no start form for a viewer
    form = {
        "csrf_token": csrf,
        "obligation": "monthly-filing",
        "period": "2026-11",
        "district": "测试区",
        "nonce": "n" * 22,
    }
    r = client.post("/admin/runs", data=form)
    assert r.status_code == 403 and "只读账号" in r.text
    client.post("/admin/logout", data={"csrf_token": csrf})
    login(client, "wangjing")
    for csrf_token in ("", "forged"):
        r = client.post("/admin/runs", data={**form, "csrf_token": csrf_token})
        assert r.status_code == 403 and "未作任何改动" in r.text
    assert len(_runs(deployed)) == before
    assert not _audit("run")


@pytest.mark.prefect
def test_a_district_admin_starts_and_sees_only_their_district(
    client: TestClient, items: dict[str, list[int]], accounts: None, deployed: str
) -> None:
    csrf = login(client, "wangjing")  # every district: starts one run for 示例区
    form = _form(client.get("/admin/runs").text, "monthly-filing")
    r = client.post(
        "/admin/runs", data={**form, "csrf_token": csrf, "district": OTHER, "period": "2026-12"}
    )
    assert r.status_code == 303, r.text
    other_run = r.headers["location"].rsplit("/", 1)[1]
    client.post("/admin/logout", data={"csrf_token": csrf})

    csrf = login(client, "chenli")  # admin of 测试区
    page = client.get("/admin/runs")
    assert other_run not in page.text  # another district's run is not listed
    assert '<select name="district">' not in page.text  # their district, fixed
    form = _form(page.text, "monthly-filing")
    assert form["district"] == "测试区"
    before = len(_runs(deployed))
    r = client.post("/admin/runs", data={**form, "csrf_token": csrf, "district": OTHER})
    assert r.status_code == 403 and "不在您账号的管辖范围内" in r.text
    assert len(_runs(deployed)) == before
    r = client.get(f"/admin/runs/{other_run}")
    assert r.status_code == 403 and "不在您账号的管辖范围内" in r.text
    assert client.get("/admin/runs/not-a-run").status_code == 404
    assert [e.district for e in _audit("run")] == [OTHER]


@pytest.mark.prefect
def test_bad_form_values_are_refused_in_words(
    client: TestClient, items: dict[str, list[int]], accounts: None, deployed: str
) -> None:
    csrf = login(client, "wangjing")
    form = {**_form(client.get("/admin/runs").text, "monthly-filing"), "csrf_token": csrf}
    before = len(_runs(deployed))
    cases = [
        ({"period": "2026-13"}, "月份 13 无效"),
        ({"period": "2026-Q4"}, "应写作 YYYY-MM"),
        ({"obligation": "no-such"}, "没有代码为「no-such」的事项"),
        ({"district": "不存在区"}, "单位名录中没有「不存在区」的单位"),
        ({"nonce": ""}, "请刷新页面后重试"),
    ]
    for change, message in cases:
        r = client.post("/admin/runs", data={**form, **change})
        assert r.status_code == 400 and message in r.text, (change, r.text)
        assert "Traceback" not in r.text
    assert len(_runs(deployed)) == before and not _audit("run")


# --------------------------------------------------------------------------- a real run


@pytest.mark.prefect
def test_trigger_creates_one_run_of_the_deployment_and_shows_its_state(
    on_30_november: None,
    client: TestClient,
    items: dict[str, list[int]],
    accounts: None,
    deployed: str,
) -> None:
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.states import Completed, Running

    csrf = login(client, "wangjing")
    page = client.get("/admin/runs")
    assert page.status_code == 200
    assert "新增非密公文全量备案" in page.text and "2026年11月" in page.text
    assert '<option value="2026-Q4" selected>2026年第四季度</option>' in page.text
    form = {
        **_form(page.text, "monthly-filing"),
        "csrf_token": csrf,
        "district": "测试区",
        "period": "2026-11",
    }
    before = {str(r.id) for r in _runs(deployed)}
    r = client.post("/admin/runs", data=form)
    assert r.status_code == 303, r.text
    run_id = r.headers["location"].rsplit("/", 1)[1]
    new = [x for x in _runs(deployed) if str(x.id) not in before]
    assert [str(x.id) for x in new] == [run_id]
    (run,) = new
    assert run.parameters == {"period": "2026-11", "district": "测试区"}
    assert run.name == "monthly-filing 2026-11"
    assert "zwgk-web" in run.tags and run.state and run.state.type.value == "SCHEDULED"

    shown = client.get(f"/admin/runs/{run_id}")
    assert shown.status_code == 200
    assert "已排队" in shown.text and "新增非密公文全量备案（2026年11月）" in shown.text
    ui = deployed.rstrip("/").removesuffix("/api")
    assert f'href="{ui}/runs/flow-run/{run_id}"' in shown.text
    assert '<meta http-equiv="refresh"' in shown.text  # still going: the page reloads itself
    assert "运行名称" not in shown.text  # Prefect's name only in the link's title
    assert 'title="Prefect 中的运行：monthly-filing 2026-11"' in shown.text
    (entry,) = _audit("run")
    assert entry.user == "wangjing" and entry.target == f"flow-run {run_id}"
    assert entry.detail == "启动工作流：新增非密公文全量备案（2026年11月，测试区）"
    assert entry.district == "测试区"
    assert entry.after == {
        "flow_run_id": run_id,
        "obligation": "monthly-filing",
        "period": "2026-11",
        "district": "测试区",
    }

    # The same form again (a double click, a reload of the POST): the same run, no second.
    r = client.post("/admin/runs", data=form)
    assert r.status_code == 303 and r.headers["location"] == f"/admin/runs/{run_id}?again=1"
    assert "未重复启动" in client.get(r.headers["location"]).text
    assert len(_runs(deployed)) == len(before) + 1 and len(_audit("run")) == 1

    # Its state as Prefect moves it: running, then completed (no more reloading).
    with SyncPrefectClient(deployed) as c:
        c.set_flow_run_state(run.id, Running(), force=True)
        listing = client.get("/admin/runs").text
        assert re.search(rf'data-run="{run_id}".*?运行中', listing, re.S)
        c.set_flow_run_state(run.id, Completed(), force=True)
    done = client.get(f"/admin/runs/{run_id}").text
    assert "已完成" in done and '<meta http-equiv="refresh"' not in done
    assert "尚未结束" not in done


@pytest.mark.prefect
def test_todays_reminders_from_the_page(
    client: TestClient, items: dict[str, list[int]], accounts: None, deployed: str
) -> None:
    """催办提醒 has no period: the run sweeps the district today, as the schedule's does."""
    from prefect.client.orchestration import SyncPrefectClient

    from notifications.render import cn_day
    from zwgk.clock import today_shanghai

    csrf = login(client, "chenli")
    page = client.get("/admin/runs").text
    today = today_shanghai()
    assert f"今日（{cn_day(today)}）" in page
    r = client.post("/admin/runs", data={**_form(page, "reminders"), "csrf_token": csrf})
    assert r.status_code == 303, r.text
    run_id = r.headers["location"].rsplit("/", 1)[1]
    with SyncPrefectClient(deployed) as c:
        run = c.read_flow_run(run_id)  # type: ignore[arg-type]
    assert run.parameters == {"district": "测试区"} and run.name == f"reminders {today}"
    shown = client.get(f"/admin/runs/{run_id}").text
    assert f"催办提醒（{cn_day(today)}）" in shown and "已排队" in shown
    (entry,) = _audit("run")
    assert entry.after and entry.after["obligation"] == "reminders"
    assert entry.after["period"] == today.isoformat() and entry.district == "测试区"


@pytest.mark.prefect
def test_a_server_without_the_deployment_says_so(
    client: TestClient, items: dict[str, list[int]], accounts: None, deployed: str
) -> None:
    """The server answers but ``zwgk serve`` has not registered the obligation yet (it is
    still starting): 503 in words, nothing started, nothing logged; a viewer follows a run."""
    csrf = login(client, "wangjing")
    page = client.get("/admin/runs").text
    form = {**_form(page, "open-month"), "csrf_token": csrf, "district": "测试区"}
    r = client.post("/admin/runs", data=form)
    assert r.status_code == 503 and "还没有「政府开放月活动」的部署" in r.text
    assert "Traceback" not in r.text and not _audit("run")
    form = {**_form(page, "monthly-filing"), "csrf_token": csrf, "district": "测试区"}
    run_id = client.post("/admin/runs", data=form).headers["location"].rsplit("/", 1)[1]
    client.post("/admin/logout", data={"csrf_token": csrf})
    login(client, "lingdao")
    assert run_id in client.get("/admin/runs").text
    shown = client.get(f"/admin/runs/{run_id}")
    assert shown.status_code == 200 and "已排队" in shown.text


# --------------------------------------------------------------------------- no server


@pytest.fixture
def web_alone(env: Path, directory: str, accounts: None, tmp_path: Path) -> Iterator[str]:
    """``zwgk web`` by itself, as a user starts it without ``zwgk up``: no Prefect server."""
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    environ["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    proc = subprocess.Popen(
        [sys.executable, "-m", "zwgk.cli", "web", "--port", str(port)],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/health", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_without_a_prefect_server_the_page_says_so(web_alone: str, env: Path) -> None:
    import httpx

    with httpx.Client(base_url=web_alone, follow_redirects=False, timeout=30) as c:
        page = c.get("/admin/login")
        r = c.post(
            "/admin/login",
            data={"username": "wangjing", "password": PASSWORD, "csrf_token": _csrf(page.text)},
        )
        assert r.status_code == 303
        csrf = _csrf(c.get("/admin/").text)
        for marker in (None, "http://127.0.0.1:9/api"):  # none, or one left by a crashed `up`
            if marker:
                (env / "prefect_api_url").write_text(marker)
            r = c.get("/admin/runs")
            assert r.status_code == 503
            assert "工作流服务未启动：请先运行 make run 或 zwgk up" in r.text
            assert "Traceback" not in r.text
        r = c.post(
            "/admin/runs",
            data={
                "csrf_token": csrf,
                "obligation": "monthly-filing",
                "period": "2026-11",
                "district": "测试区",
                "nonce": "n" * 22,
            },
        )
    assert r.status_code == 503 and "工作流服务未启动" in r.text and "Traceback" not in r.text
    assert not _audit("run")


# --------------------------------------------------------------------------- Chromium


@pytest.mark.prefect
@pytest.mark.browser
def test_start_a_run_in_chromium(
    on_30_november: None,
    web: str,
    sample_directory: str,
    accounts: None,
    deployed: str,
    tmp_path: Path,
) -> None:
    """An admin picks a period in the form and clicks 立即运行; the run's page shows it
    queued with its link into the Prefect UI; the list shows it as Prefect moves it."""
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.states import Completed, Failed
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.select import Select
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.browser import page_left
    from tests.test_web import _chromium_driver, wait

    driver = _chromium_driver()  # JavaScript off
    try:
        driver.set_page_load_timeout(30)
        driver.set_window_size(1366, 768)

        def click(element: Any) -> None:
            html = driver.find_element(By.TAG_NAME, "html")
            element.click()
            WebDriverWait(driver, 30).until(page_left(html))

        driver.get(web + "/admin/login")
        wait(driver, By.ID, "username").send_keys("wangjing")
        driver.find_element(By.ID, "password").send_keys(PASSWORD)
        click(driver.find_element(By.ID, "login"))
        click(driver.find_element(By.LINK_TEXT, "工作流运行"))
        started = []
        for slug, period in (("monthly-filing", "2026年10月"), ("monthly-filing", "2026年11月")):
            row = wait(driver, By.ID, f"start-{slug}")
            Select(row.find_element(By.NAME, "period")).select_by_visible_text(period)
            click(row.find_element(By.CSS_SELECTOR, "input[type=submit]"))
            assert "已排队" in wait(driver, By.ID, "state").text
            link = driver.find_element(By.ID, "ui-link").get_attribute("href") or ""
            started.append(link.rsplit("/", 1)[1])
            assert link.endswith(f"/runs/flow-run/{started[-1]}")
            assert (
                f"新增非密公文全量备案（{period}）" in driver.find_element(By.TAG_NAME, "h1").text
            )
            if len(started) == 1:
                _screenshot(driver, tmp_path, "admin-run.png")
            click(driver.find_element(By.LINK_TEXT, "返回工作流运行"))
        with SyncPrefectClient(deployed) as c:
            c.set_flow_run_state(started[0], Completed(), force=True)  # type: ignore[arg-type]
            c.set_flow_run_state(
                started[1],  # type: ignore[arg-type]
                Failed(
                    message="新增非密公文全量备案（2026年11月，长宁区）：已发送 40 封，2 封暂未发出"
                ),
                force=True,
            )
        driver.refresh()
        driver.get(web + "/admin/runs#recent")  # scrolled to the list (for the picture)
        runs = wait(driver, By.ID, "runs")
        states = {
            r.get_attribute("data-run"): r.get_attribute("data-state")
            for r in runs.find_elements(By.CSS_SELECTOR, "tr.run")
        }
        assert states == {started[0]: "COMPLETED", started[1]: "FAILED"}
        assert "已完成" in runs.text and "失败" in runs.text
        assert "2 封暂未发出" in runs.text  # a failed run says why, in its own words
        assert not driver.find_elements(By.ID, "refreshing")  # nothing left going
        _screenshot(driver, tmp_path, "admin-runs.png")
    finally:
        driver.quit()
    assert [e.user for e in _audit("run")] == ["wangjing", "wangjing"]
