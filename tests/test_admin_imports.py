"""Imports from the workbench (/admin/import/…) and the item view's extension of a due
date: HTTP tests on a real SQLite file (Starlette's TestClient), and a real headless
Chromium uploading a units CSV → preview → 确认导入 → the audit page."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import func, select
from starlette.testclient import TestClient

from models import Unit
from models.annual import Application
from models.calendar import HolidayOverride
from models.plan import PlanTask
from tests import test_admin_web as admin_web
from tests.factories import write_units_csv
from tests.test_admin_web import PASSWORD, _audit, _item, _screenshot, login
from zwgk.config import get_settings
from zwgk.db import session_scope

NEW_UNITS = [
    ["区政府办公室", "区政府办|区政务公开办", "office", "gkb@test.example.gov.cn", "王静", ""],
    ["区卫生健康委", "区卫健委", "department", "wjw@test.example.gov.cn", "赵敏", ""],
    ["区民政局", "", "department", "mzj@test.example.gov.cn", "孙立", ""],
]
PLANS = Path(__file__).parent / "fixtures" / "plans"

# The workbench tests' fixtures: three accounts, a TestClient, items in two districts.
accounts = admin_web.accounts
client = admin_web.client
items = admin_web.items


def _count(model: type) -> int:
    with session_scope() as s:
        return int(s.exec(select(func.count()).select_from(model)).one())


def _uploads() -> list[Path]:
    folder = get_settings().var_dir / "uploads" / "imports"
    return sorted(folder.iterdir()) if folder.exists() else []


def _upload(
    c: TestClient,
    kind: str,
    path: Path,
    csrf: str | None,
    *,
    name: str | None = None,
    **fields: str,
):  # type: ignore[no-untyped-def]
    data = dict(fields)
    if csrf is not None:
        data["csrf_token"] = csrf
    with path.open("rb") as fh:
        return c.post(
            f"/admin/import/{kind}", data=data, files={"file": (name or path.name, fh.read())}
        )


def _token(html: str) -> str:
    match = re.search(r'name="token" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def _confirm(c: TestClient, kind: str, csrf: str, token: str):  # type: ignore[no-untyped-def]
    return c.post(f"/admin/import/{kind}/confirm", data={"csrf_token": csrf, "token": token})


# --------------------------------------------------------------------------- units


def test_preview_writes_nothing_and_confirm_writes_once(
    client: TestClient, directory: str, accounts: None, tmp_path: Path
) -> None:
    csrf = login(client, "wangjing")
    path = write_units_csv(tmp_path / "名录.csv", NEW_UNITS)
    before = _count(Unit)
    r = _upload(client, "units", path, csrf, district=directory)
    assert r.status_code == 200, r.text
    assert "确认导入" in r.text and "区卫生健康委" in r.text and "区民政局" in r.text
    assert "<td>区政府部门</td>" in r.text  # the kind in Chinese
    assert "新增 2 个单位，更新 0 个，未变 1 个" in r.text
    assert "区政府办公室</td>" not in r.text  # unchanged rows are counted, not listed
    assert _count(Unit) == before and not _audit("import-units")
    token = _token(r.text)

    first = _confirm(client, "units", csrf, token)
    second = _confirm(client, "units", csrf, token)  # the double-submitted form
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert _count(Unit) == before + 2
    (entry,) = _audit("import-units")
    assert entry.user == "wangjing" and entry.district == directory
    assert entry.target == "名录.csv"
    assert entry.after == {"created": 2, "updated": 0, "unchanged": 1}
    done = client.get(first.headers["location"])
    assert done.status_code == 200 and "已导入" in done.text
    audit = client.get("/admin/audit")
    assert "导入单位名录" in audit.text and "名录.csv" in audit.text
    # The file is gone once imported; only the result remains.
    assert not [p for p in _uploads() if p.suffix == ".csv"]


def test_concurrent_confirms_write_once(
    web: str, directory: str, accounts: None, tmp_path: Path
) -> None:
    """Four confirms of one preview at the same moment, on a real server: one import."""
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    path = write_units_csv(tmp_path / "u.csv", NEW_UNITS)
    before = _count(Unit)
    with httpx.Client(base_url=web, follow_redirects=False, timeout=30) as c:
        csrf = login(c, "wangjing")  # type: ignore[arg-type]
        token = _token(_upload(c, "units", path, csrf, district=directory).text)  # type: ignore[arg-type]
        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(lambda _: _confirm(c, "units", csrf, token), range(4)))  # type: ignore[arg-type]
    assert {r.status_code for r in answers} <= {303, 409}, [r.text for r in answers]
    assert any(r.status_code == 303 for r in answers)
    assert _count(Unit) == before + 2 and len(_audit("import-units")) == 1


def test_bad_file_is_shown_by_row_and_nothing_is_written(
    client: TestClient, directory: str, accounts: None, tmp_path: Path
) -> None:
    csrf = login(client, "wangjing")
    rows = [*NEW_UNITS[:2], ["区民政局", "", "departmnet", "not-an-address", "孙立", ""]]
    path = write_units_csv(tmp_path / "bad.csv", rows)
    before = _count(Unit)
    r = _upload(client, "units", path, csrf, district=directory)
    assert r.status_code == 422
    assert "文件 bad.csv 第 4 行，字段「email」" in r.text
    assert "第 4 行，字段「kind」" in r.text and "department" in r.text  # the guess
    assert "确认导入" not in r.text and 'name="token"' not in r.text
    assert str(get_settings().var_dir) not in r.text  # the temporary path is not shown
    assert _count(Unit) == before and not _audit("import-units") and not _uploads()


def test_viewer_may_not_import(
    client: TestClient, directory: str, accounts: None, tmp_path: Path
) -> None:
    csrf = login(client, "lingdao")
    assert client.get("/admin/import/units").status_code == 403
    assert "数据导入" not in client.get("/admin/").text
    path = write_units_csv(tmp_path / "u.csv", NEW_UNITS)
    r = _upload(client, "units", path, csrf, district=directory)
    assert r.status_code == 403 and "只读" in r.text
    # Without multipart (a plain form, no body at all): the role is checked first, 403.
    r = client.post("/admin/import/units", data={"csrf_token": csrf})
    assert r.status_code == 403 and "只读" in r.text, r.text
    assert client.post("/admin/import/plan").status_code == 403
    assert not _uploads() and not _audit("import-units")


def test_viewer_cannot_confirm_an_admins_preview(
    env: Path, directory: str, accounts: None, tmp_path: Path
) -> None:
    from zwgk.web.app import create_app

    path = write_units_csv(tmp_path / "u.csv", NEW_UNITS)
    with (
        TestClient(create_app(), follow_redirects=False) as admin,
        TestClient(create_app(), follow_redirects=False) as other,
    ):
        token = _token(
            _upload(admin, "units", path, login(admin, "wangjing"), district=directory).text
        )
        csrf = login(other, "lingdao")
        assert _confirm(other, "units", csrf, token).status_code == 403
        # Another admin's session: the token is not theirs (a clear page, nothing written).
        other.cookies.clear()
        csrf = login(other, "chenli")
        r = _confirm(other, "units", csrf, token)
        assert r.status_code == 410 and "预览已失效" in r.text
        # The same account in another session (a second browser) is not the session either.
        other.cookies.clear()
        csrf = login(other, "wangjing")
        assert _confirm(other, "units", csrf, token).status_code == 410
    assert not _audit("import-units")
    with session_scope() as s:
        assert s.exec(select(Unit).where(Unit.name == "区民政局")).first() is None


def test_missing_csrf_is_403_on_upload_and_confirm(
    client: TestClient, directory: str, accounts: None, tmp_path: Path
) -> None:
    csrf = login(client, "wangjing")
    path = write_units_csv(tmp_path / "u.csv", NEW_UNITS)
    assert _upload(client, "units", path, None, district=directory).status_code == 403
    assert _upload(client, "units", path, "forged", district=directory).status_code == 403
    assert not _uploads()
    token = _token(_upload(client, "units", path, csrf, district=directory).text)
    r = client.post("/admin/import/units/confirm", data={"token": token})
    assert r.status_code == 403 and "校验码" in r.text
    assert not _audit("import-units")
    assert _confirm(client, "units", csrf, token).status_code == 303  # still good after


def test_anonymous_upload_is_sent_to_login(
    client: TestClient, directory: str, tmp_path: Path
) -> None:
    path = write_units_csv(tmp_path / "u.csv", NEW_UNITS)
    r = _upload(client, "units", path, "x", district=directory)
    assert r.status_code == 303 and r.headers["location"].startswith("/admin/login")
    assert client.get("/admin/import/plan").status_code == 303
    assert not _uploads()


def test_stale_or_unknown_token_is_a_clear_page(
    client: TestClient, directory: str, accounts: None
) -> None:
    csrf = login(client, "wangjing")
    for token in ("x" * 32, "../../zwgk.db", ""):
        r = _confirm(client, "units", csrf, token)
        assert r.status_code == 410 and "预览已失效" in r.text and "请重新上传" in r.text


def test_a_preview_older_than_a_day_is_stale_and_swept(
    client: TestClient, directory: str, accounts: None, tmp_path: Path
) -> None:
    import os
    import time

    csrf = login(client, "wangjing")
    path = write_units_csv(tmp_path / "u.csv", NEW_UNITS)
    token = _token(_upload(client, "units", path, csrf, district=directory).text)
    day_old = time.time() - 24 * 3600 - 60
    for p in _uploads():
        os.utime(p, (day_old, day_old))
    r = _confirm(client, "units", csrf, token)
    assert r.status_code == 410 and "预览已失效" in r.text
    assert not _audit("import-units")
    _upload(client, "units", path, csrf, district=directory)  # the next upload sweeps
    assert not [p for p in _uploads() if p.name.startswith(token)]


def test_wrong_type_and_too_large(
    client: TestClient, directory: str, accounts: None, tmp_path: Path
) -> None:
    csrf = login(client, "wangjing")
    path = write_units_csv(tmp_path / "u.csv", NEW_UNITS)
    r = _upload(client, "units", path, csrf, name="u.txt", district=directory)
    assert r.status_code == 415 and "类型不对" in r.text and ".csv" in r.text
    # A spreadsheet's name on a text file, and a binary file named .csv: refused by content.
    r = _upload(client, "register", path, csrf, name="u.xlsx")
    assert r.status_code == 415 and "内容与扩展名 .xlsx 不符" in r.text
    binary = tmp_path / "x.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    assert _upload(client, "units", binary, csrf, district=directory).status_code == 415
    big = tmp_path / "big.csv"
    big.write_bytes(b"name,aliases,kind,email,contact,groups\n" + b"x" * (21 * 1024 * 1024))
    r = _upload(client, "units", big, csrf, district=directory)
    assert r.status_code == 413 and "20 MB" in r.text
    r = client.post("/admin/import/units", data={"csrf_token": csrf}, files={})
    assert r.status_code in (400, 403)
    assert not _uploads() and not _audit("import-units")


# --------------------------------------------------------------------------- other kinds


def test_holidays_preview_and_confirm(
    client: TestClient, env: Path, accounts: None, tmp_path: Path
) -> None:
    csrf = login(client, "wangjing")
    path = tmp_path / "holidays.csv"
    path.write_text(
        "date,kind,name\n2026-10-01,holiday,国庆节\n2026-10-10,workday,国庆调休\n",
        encoding="utf-8",
    )
    r = _upload(client, "holidays", path, csrf)
    assert r.status_code == 200 and "共 2 条" in r.text and "调休上班" in r.text
    assert "<td>2026年10月1日</td>" in r.text  # the preview's dates in Chinese
    assert _count(HolidayOverride) == 0
    assert _confirm(client, "holidays", csrf, _token(r.text)).status_code == 303
    assert _count(HolidayOverride) == 2
    (entry,) = _audit("import-holidays")
    assert entry.after == {"rows": 2, "changed": 2}
    path.write_text("date,kind,name\n2026-13-01,holiday,x\n", encoding="utf-8")
    r = _upload(client, "holidays", path, csrf)
    assert r.status_code == 422 and "第 2 行，字段「date」" in r.text
    # Holidays apply to every district: an admin limited to one may not import them.
    client.cookies.clear()
    csrf = login(client, "chenli")
    assert client.get("/admin/import/holidays").status_code == 403
    r = _upload(client, "holidays", path, csrf)
    assert r.status_code == 403 and "不限区的管理员" in r.text
    assert len(_audit("import-holidays")) == 1


def test_register_preview_and_confirm(
    client: TestClient, directory: str, accounts: None, tmp_path: Path
) -> None:
    csrf = login(client, "chenli")  # an admin of 测试区: the district is theirs
    path = tmp_path / "register.csv"
    path.write_text(
        "unit,received,applicant_type,outcome,replied\n"
        "区教育局,2026-03-02,自然人,予以公开,2026-03-20\n"
        "区发改委,2026-04-01,商业企业,,\n",
        encoding="utf-8",
    )
    r = _upload(client, "register", path, csrf)
    assert r.status_code == 200, r.text
    assert "新增 2 件" in r.text and "区发展改革委" in r.text and "（办理中）" in r.text
    assert "<td>2026年3月20日</td>" in r.text and "2026-03" not in r.text
    assert _count(Application) == 0
    assert _confirm(client, "register", csrf, _token(r.text)).status_code == 303
    assert _count(Application) == 2
    (entry,) = _audit("import-register")
    assert entry.user == "chenli" and entry.district == directory


def test_plan_preview_shows_the_dry_run_and_confirm_imports(
    client: TestClient, env: Path, accounts: None
) -> None:
    from zwgk.intake.directory import import_units

    with session_scope() as s:
        import_units(session=s, path=PLANS / "changning-2022-units.csv", district="长宁区")
    csrf = login(client, "wangjing")
    fields = {"district": "长宁区", "year": "2022", "issued": "2022-03-30"}
    r = _upload(client, "plan", PLANS / "changning-2022.xlsx", csrf, **fields)
    assert r.status_code == 200, r.text
    shown = re.search(r"(\d+) 项任务（新增 (\d+)", r.text)
    assert shown and shown.group(1) == shown.group(2) and int(shown.group(1)) > 10
    assert "确认导入" in r.text and _count(PlanTask) == 0
    assert _confirm(client, "plan", csrf, _token(r.text)).status_code == 303
    assert _count(PlanTask) == int(shown.group(1))
    (entry,) = _audit("import-plan")
    assert entry.district == "长宁区" and entry.after["tasks"] == int(shown.group(1))  # type: ignore[index]
    # A missing issue date: the form again, nothing kept.
    r = _upload(client, "plan", PLANS / "changning-2022.xlsx", csrf, district="长宁区", year="2022")
    assert r.status_code == 422 and "印发日期" in r.text


# --------------------------------------------------------------------------- extend


def test_admin_extends_a_due_date_with_a_reason(
    client: TestClient, items: dict[str, list[int]], accounts: None
) -> None:
    item_id = items["测试区"][0]
    old = _item(item_id).due
    new = old + timedelta(days=10)
    csrf = login(client, "wangjing")
    assert f'action="/admin/items/{item_id}/extend"' in client.get(f"/admin/items/{item_id}").text
    url = f"/admin/items/{item_id}/extend"
    r = client.post(url, data={"csrf_token": csrf, "due": str(new), "reason": ""})
    assert r.status_code == 400 and "说明理由" in r.text
    r = client.post(url, data={"csrf_token": csrf, "due": str(old), "reason": "x"})
    assert r.status_code == 400 and "应晚于" in r.text
    r = client.post(url, data={"csrf_token": csrf, "due": "2026-02-30", "reason": "x"})
    assert r.status_code == 400 and "没有这一天" in r.text
    assert _item(item_id).due == old and not _audit("extend")
    r = client.post(url, data={"csrf_token": csrf, "due": str(new), "reason": "待区委审定"})
    assert r.status_code == 303
    assert _item(item_id).due == new
    (entry,) = _audit("extend")
    assert entry.user == "wangjing" and "待区委审定" in entry.detail
    assert entry.before == {"due": old.isoformat()} and entry.after == {"due": new.isoformat()}
    page = client.get(f"/admin/items/{item_id}?done=extend").text
    assert "已延长截止日期" in page and "延长截止日期" in page


def test_viewer_and_other_district_cannot_extend(
    client: TestClient, items: dict[str, list[int]], accounts: None
) -> None:
    item_id = items["示例区"][0]
    old = _item(item_id).due
    data = {"due": str(old + timedelta(days=5)), "reason": "x"}
    csrf = login(client, "lingdao")
    assert (
        client.post(f"/admin/items/{item_id}/extend", data=data | {"csrf_token": csrf}).status_code
        == 403
    )
    client.cookies.clear()
    csrf = login(client, "chenli")  # 测试区's admin; the item is 示例区's
    assert (
        client.post(f"/admin/items/{item_id}/extend", data=data | {"csrf_token": csrf}).status_code
        == 403
    )
    assert client.post(f"/admin/items/{item_id}/extend", data=data).status_code == 403
    assert _item(item_id).due == old and not _audit("extend")


# --------------------------------------------------------------------------- Chromium


@pytest.mark.browser
def test_upload_preview_confirm_and_audit_in_chromium(
    web: str, sample_directory: str, accounts: None, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.browser import page_left
    from tests.test_web import _chromium_driver, wait

    path = Path(__file__).parents[1] / "zwgk" / "data" / "sample_units.csv"
    text = path.read_text(encoding="utf-8")
    upload = tmp_path / "长宁区单位名录.csv"
    upload.write_text(
        text.rstrip("\n")
        + "\n区气象局,,department,qxj@changning.example.gov.cn,钱进,\n"
        + "区地方志办公室,区史志办,department,dfz@changning.example.gov.cn,孙立,\n",
        encoding="utf-8",
    )
    before = _count(Unit)
    driver = _chromium_driver()  # JavaScript off: the pages must work without it
    try:
        driver.set_page_load_timeout(30)
        driver.set_window_size(1366, 768)

        def submit(element_id: str) -> None:
            page = driver.find_element(By.TAG_NAME, "html")
            driver.find_element(By.ID, element_id).click()
            WebDriverWait(driver, 15).until(page_left(page))

        driver.get(web + "/admin/login")
        wait(driver, By.ID, "username").send_keys("wangjing")
        driver.find_element(By.ID, "password").send_keys(PASSWORD)
        submit("login")
        wait(driver, By.ID, "who")
        driver.find_element(By.LINK_TEXT, "数据导入").click()
        district = wait(driver, By.ID, "district")
        district.clear()
        district.send_keys(sample_directory)
        driver.find_element(By.ID, "file").send_keys(str(upload))
        submit("upload")
        summary = wait(driver, By.ID, "preview-summary").text
        assert "新增 2 个单位" in summary, summary
        rows = driver.find_element(By.ID, "preview-rows").text
        assert "区气象局" in rows and "区地方志办公室" in rows
        assert _count(Unit) == before  # the preview wrote nothing
        _screenshot(driver, tmp_path, "admin-import-preview.png")
        confirm = driver.find_element(By.ID, "confirm")
        assert confirm.get_attribute("value") == "确认导入"
        submit("confirm")
        assert "已导入" in wait(driver, By.ID, "done-message").text
        assert _count(Unit) == before + 2
        driver.find_element(By.LINK_TEXT, "查看操作日志").click()
        log = wait(driver, By.TAG_NAME, "table").text
        assert "导入单位名录" in log and "长宁区单位名录.csv" in log and "wangjing" in log
    finally:
        driver.quit()
    (entry,) = _audit("import-units")
    assert entry.after == {"created": 2, "updated": 0, "unchanged": before}
