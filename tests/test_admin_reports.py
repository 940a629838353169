"""Reports from the workbench (/admin/reports): the same files as ``zwgk report``, scoped to
the account's district, named in Chinese, and a Chinese page for a bad query."""

# ruff: noqa: F811  (the fixtures imported from test_admin_web are used by name)
from __future__ import annotations

import io
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from docx import Document as Docx
from openpyxl import load_workbook
from starlette.testclient import TestClient

from tests.cli import run_inprocess
from tests.test_admin_web import (  # noqa: F401  (fixtures)
    OTHER,
    accounts,
    client,
    items,
    login,
)
from zwgk.db import session_scope


def _downloaded(path: Path) -> bool:
    """Chromium's download is complete: it makes an empty file under the final name when it
    starts, writes ``….crdownload`` beside it, and renames that over it at the end."""
    return path.exists() and path.stat().st_size > 0 and not any(path.parent.glob("*.crdownload"))


def _cells(data: bytes) -> dict[str, list[list[object]]]:
    wb = load_workbook(io.BytesIO(data))
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}


def _complete_some(ids: list[int]) -> None:
    from workflows.items import complete, waive

    with session_scope() as s:
        complete(session=s, item_id=ids[0], evidence="https://www.example.gov.cn/a", by="t")
        waive(session=s, item_id=ids[1], reason="无", by="t")


def _cli_file(capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, *args: str) -> bytes:
    out = tmp_path / name
    r = run_inprocess(capsys, "report", *args, "--out", str(out))
    assert r.code == 0, r.err
    return out.read_bytes()


def test_progress_xlsx_and_csv_equal_the_clis(
    client: TestClient,
    accounts: None,
    items: dict[str, list[int]],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    _complete_some(items["测试区"])
    login(client, "wangjing")  # all districts
    query = "obligation=monthly-filing&period=2026-12"
    r = client.get(f"/admin/reports/progress.xlsx?{query}")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    name = "新增非密公文全量备案2026年12月完成情况.xlsx"
    disposition = r.headers["content-disposition"]
    assert f"filename*=UTF-8''{quote(name)}" in disposition
    assert 'filename="progress-monthly-filing-2026-12.xlsx"' in disposition
    cli = _cli_file(
        capsys, tmp_path, "a.xlsx", "progress", "--obligation", "monthly-filing",
        "--period", "2026-12", "--format", "xlsx",
    )  # fmt: skip
    web = _cells(r.content)
    assert web == _cells(cli)
    units = {row[1] for row in web["汇总"][1:]}
    assert "区财政局" in units and "区教育局" in units  # both districts

    csv = client.get(f"/admin/reports/progress.csv?{query}")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    cli_csv = _cli_file(
        capsys, tmp_path, "a.csv", "progress", "--obligation", "monthly-filing",
        "--period", "2026-12", "--format", "csv",
    )  # fmt: skip
    assert csv.content == cli_csv
    # The form's spelling (format= instead of the suffix) gives the same file.
    same = client.get(f"/admin/reports/progress?{query}&format=csv")
    assert same.content == cli_csv


def test_a_district_admin_gets_their_district_only(
    client: TestClient,
    accounts: None,
    items: dict[str, list[int]],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    login(client, "chenli")  # 测试区 only
    r = client.get("/admin/reports/progress.xlsx?obligation=monthly-filing&period=2026-12")
    assert r.status_code == 200
    cli = _cli_file(
        capsys, tmp_path, "d.xlsx", "progress", "--obligation", "monthly-filing",
        "--period", "2026-12", "--district", "测试区", "--format", "xlsx",
    )  # fmt: skip
    web = _cells(r.content)
    assert web == _cells(cli)
    assert "区财政局" not in {row[1] for row in web["汇总"][1:]}  # 示例区's unit
    other = client.get(
        f"/admin/reports/progress.xlsx?obligation=monthly-filing&period=2026-12&district={OTHER}"
    )
    assert other.status_code == 403 and "管辖范围" in other.text
    assert (
        client.get(f"/admin/reports/bulletin.docx?period=2026&district={OTHER}").status_code == 403
    )


def test_annual_draft_and_bulletin_open(
    client: TestClient, accounts: None, items: dict[str, list[int]]
) -> None:
    login(client, "lingdao")  # a viewer may download
    r = client.get("/admin/reports/annual.docx?year=2026&district=测试区")
    assert r.status_code == 200, r.text
    doc = Docx(io.BytesIO(r.content))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "2026年" in text and "政府信息公开工作年度报告" in text
    assert (
        quote("测试区2026年政府信息公开工作年度报告（草稿）.docx")
        in r.headers["content-disposition"]
    )
    b = client.get("/admin/reports/bulletin.docx?period=2026&district=测试区")
    assert b.status_code == 200, b.text
    text = "\n".join(p.text for p in Docx(io.BytesIO(b.content)).paragraphs)
    assert "关于2026年度全区政务公开重点工作完成情况的通报" in text
    x = client.get("/admin/reports/bulletin.xlsx?period=2026&district=测试区")
    assert x.status_code == 200 and load_workbook(io.BytesIO(x.content)).worksheets


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        ("/admin/reports/progress.xlsx?obligation=no-such&period=2026-12", 400, "未知的事项"),
        ("/admin/reports/progress.xlsx?obligation=monthly-filing&period=2026-13", 400, "2026-13"),
        (
            "/admin/reports/progress.xlsx?obligation=monthly-filing&period=2025-01",
            404,
            "2025年1月没有「新增非密公文全量备案」的事项",
        ),
        ("/admin/reports/progress.csv?period=2025-01", 404, "2025年1月没有任何事项"),
        (
            "/admin/reports/progress.xlsx?period=2026-12&district=火星区",
            400,
            "单位名录中没有「火星区」的单位",
        ),
        ("/admin/reports/progress.xlsx?obligation=monthly-filing", 400, "请指定期间"),
        ("/admin/reports/progress.pdf?period=2026-12", 404, "XLSX、CSV"),
        ("/admin/reports/nothing.xlsx", 404, "没有名为「nothing」的报表"),
        ("/admin/reports/annual.docx?year=20x6&district=测试区", 400, "年度「20x6」无效"),
        ("/admin/reports/annual.docx?year=²&district=测试区", 400, "年度「²」无效"),
        ("/admin/reports/annual.docx?year=٢٠٢٦&district=测试区", 400, "年度「٢٠٢٦」无效"),
        ("/admin/reports/annual.docx?year=9999999999999999999999&district=测试区", 400, "无效"),
        ("/admin/reports/bulletin.docx?period=٢٠٢٦&district=测试区", 400, "格式不对"),
        ("/admin/reports/bulletin.xlsx?period=٢٠٢٦-١١&district=测试区", 400, "格式不对"),
        ("/admin/reports/progress.xlsx?period=٢٠٢٦-١١", 404, "٢٠٢٦-١١没有任何事项"),
        (
            "/admin/reports/progress.xlsx?obligation=monthly-filing&period=٢٠٢٦-١١",
            400,
            "期间「٢٠٢٦-١١」格式不对",
        ),
        ("/admin/reports/annual.docx?year=2026", 400, "请选择一个区"),
        ("/admin/reports/annual.docx?year=2026&district=火星区", 400, "火星区"),
        ("/admin/reports/bulletin.docx?period=2026-W3&district=测试区", 400, "格式不对"),
    ],
)
def test_a_bad_query_gets_a_chinese_page(
    client: TestClient,
    accounts: None,
    items: dict[str, list[int]],
    path: str,
    status: int,
    says: str,
) -> None:
    login(client, "wangjing")
    r = client.get(path)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("text/html")
    assert says in r.text and "Traceback" not in r.text


def test_anonymous_gets_the_login_page(client: TestClient, items: dict[str, list[int]]) -> None:
    for path in ("/admin/reports", "/admin/reports/progress.xlsx?period=2026-12"):
        r = client.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/admin/login")


def test_the_reports_page_offers_chinese_labels(
    client: TestClient, accounts: None, items: dict[str, list[int]]
) -> None:
    login(client, "wangjing")
    html = client.get("/admin/reports").text
    assert '<option value="2026-12">2026年12月</option>' in html
    assert '<option value="monthly-filing">新增非密公文全量备案</option>' in html
    assert f'<option value="{OTHER}">{OTHER}</option>' in html
    shown = re.sub(r"<[^>]+>", " ", html)  # the text a person reads
    assert "2026-12" not in shown
    # Each period on the dashboard links to its progress XLSX.
    dashboard = client.get("/admin/").text
    assert "/admin/reports/progress.xlsx?obligation=monthly-filing&amp;period=2026-12" in dashboard


@pytest.mark.browser
def test_reports_page_downloads_in_chromium(
    web: str,
    sample_directory: str,
    accounts: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The reports page at 1366×768 without JavaScript: its form downloads the XLSX under
    its Chinese name, the same cells as the CLI's file; the dashboard shows 待审核 apart."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    from tests.browser import page_left
    from tests.test_admin_web import PASSWORD, _office_year, _screenshot
    from tests.test_web import _chromium_driver, wait

    _office_year(sample_directory)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver = _chromium_driver()
    try:
        driver.set_page_load_timeout(30)
        driver.set_window_size(1366, 768)
        driver.execute_cdp_cmd(
            "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
        )
        driver.get(web + "/admin/login")
        wait(driver, By.ID, "username").send_keys("lingdao")  # a viewer may download
        driver.find_element(By.ID, "password").send_keys(PASSWORD)
        page = driver.find_element(By.TAG_NAME, "html")
        driver.find_element(By.ID, "login").click()
        WebDriverWait(driver, 15).until(page_left(page))
        row = wait(driver, By.ID, "period-monthly-filing-2026-12")
        awaiting = int(row.find_element(By.CSS_SELECTOR, ".c-awaiting").text)
        assert awaiting > 0 and "待审核的单位填报" in driver.page_source

        driver.find_element(By.LINK_TEXT, "报表下载").click()
        form = wait(driver, By.ID, "form-progress")
        Select(form.find_element(By.NAME, "obligation")).select_by_visible_text(
            "新增非密公文全量备案"
        )
        Select(form.find_element(By.NAME, "period")).select_by_visible_text("2026年11月")
        _screenshot(driver, tmp_path, "admin-reports.png")
        form.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
        name = "新增非密公文全量备案2026年11月完成情况.xlsx"
        WebDriverWait(driver, 20).until(lambda _d: _downloaded(downloads / name))
    finally:
        driver.quit()
    cli = _cli_file(
        capsys, tmp_path, "cli.xlsx", "progress", "--obligation", "monthly-filing",
        "--period", "2026-11", "--format", "xlsx",
    )  # fmt: skip
    assert _cells((downloads / name).read_bytes()) == _cells(cli)
