"""The completion page: HTTP behaviour, and a real headless Chromium opening an emailed link."""

from __future__ import annotations

import base64
import json
import re
import shutil
import sqlite3
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlmodel import select

from models import ChecklistItem, ItemEvent
from notifications.links import sign
from notifications.outbox_send import dispatch
from tests.required import unavailable
from tests.smtpd import SMTPServer
from workflows.engine import build_checklist
from workflows.registry import REGISTRY
from zwgk.config import get_settings
from zwgk.db import session_scope


def _assign_and_mail(smtp: SMTPServer) -> None:
    ob = REGISTRY["decision-catalogue"]
    with session_scope() as s:
        build_checklist(session=s, ob=ob, period=ob.parse_period("2026"), settings=get_settings())
    assert dispatch(settings=get_settings()).ok


def _link_for(smtp: SMTPServer, rcpt: str) -> str:
    msg = next(m for m in smtp.messages if m.rcpt_tos[0] == rcpt)
    match = re.search(r"https?://\S+/u/\S+", msg.text())
    assert match, msg.text()
    return match.group(0)


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def _post(url: str, **fields: str) -> tuple[int, str, str]:
    data = urllib.parse.urlencode(fields).encode()

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **k):  # type: ignore[no-untyped-def]
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, data=data, method="POST"), timeout=5) as r:
            return r.status, r.read().decode(), r.headers.get("Location", "")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), e.headers.get("Location", "")


def _items(unit_email: str) -> list[ChecklistItem]:
    from models import Unit

    with session_scope() as s:
        unit = s.exec(select(Unit).where(Unit.email == unit_email)).one()
        return list(s.exec(select(ChecklistItem).where(ChecklistItem.unit_id == unit.id)))


# --------------------------------------------------------------------------- HTTP


def test_page_lists_only_the_units_open_items(web: str, directory: str, smtp: SMTPServer) -> None:
    _assign_and_mail(smtp)
    status, html = _get(_link_for(smtp, "gkb@test.example.gov.cn"))
    assert status == 200
    assert "区政府办公室 政务公开事项填报" in html
    assert html.count('<form method="post"') == 2  # district + unit catalogue
    assert "<script" not in html


def test_bad_form_records_nothing(web: str, directory: str, smtp: SMTPServer) -> None:
    _assign_and_mail(smtp)
    link = _link_for(smtp, "jyj@test.example.gov.cn")
    item = _items("jyj@test.example.gov.cn")[0]
    for evidence in ("", "www.example.cn/x", "javascript:alert(1)"):
        status, html, _ = _post(f"{link}/items/{item.id}", evidence=evidence, note="n")
        assert status == 400 and 'id="error-message"' in html
    assert _items("jyj@test.example.gov.cn")[0].status == "pending"
    # Another unit's item or an unknown item: 404, nothing recorded.
    other = _items("fgw@test.example.gov.cn")[0]
    assert _post(f"{link}/items/{other.id}", evidence="https://a.example.cn/1")[0] == 404
    assert _post(f"{link}/items/999999", evidence="https://a.example.cn/1")[0] == 404
    assert _items("fgw@test.example.gov.cn")[0].status == "pending"


def test_an_odd_number_in_the_address_is_refused_plainly(
    web: str, directory: str, smtp: SMTPServer
) -> None:
    """A superscript (isdigit() but not int()), an Arabic-Indic digit, a number past 64 bits:
    the unit's 404 page or its plain page, never a 500; nothing recorded."""
    _assign_and_mail(smtp)
    link = _link_for(smtp, "jyj@test.example.gov.cn")
    for odd in ("²", "٣", "99999999999999999999999"):
        q = urllib.parse.quote(odd)
        status, html, _ = _post(f"{link}/items/{q}", evidence="https://a.example.cn/1")
        assert status == 404 and "事项不存在" in html, odd
        status, html = _get(f"{link}/files/{q}")
        assert status == 404 and "附件不存在" in html, odd
        status, html = _get(f"{link}?done={q}")
        assert status == 200 and "政务公开事项填报" in html, odd
    assert _items("jyj@test.example.gov.cn")[0].status == "pending"


def test_tampered_and_expired_links_are_refused(
    web: str, directory: str, smtp: SMTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _assign_and_mail(smtp)
    link = _link_for(smtp, "jyj@test.example.gov.cn")
    payload, signature = link.rsplit("/", 1)[1].split(".")
    unit, expires = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged = base64.urlsafe_b64encode(json.dumps([unit + 1, expires]).encode()).rstrip(b"=")
    tampered = link.rsplit("/", 1)[0] + f"/{forged.decode()}.{signature}"
    status, html = _get(tampered)
    assert status == 403 and "链接无效" in html
    item = _items("fgw@test.example.gov.cn")[0]
    assert _post(f"{tampered}/items/{item.id}", evidence="https://a.example.cn/1")[0] == 403
    expired = web + "/u/" + sign(int(unit), get_settings(), now=time.time() - 61 * 86400)
    status, html = _get(expired)
    assert status == 410 and "链接已过期" in html


@contextmanager
def _writes_locked(database_url: str | None, var: Path) -> Iterator[None]:
    """Another connection holds the write lock on the items (reads still go through)."""
    if database_url:
        import psycopg

        with psycopg.connect(database_url.replace("+psycopg", "")) as conn:
            conn.execute("LOCK TABLE checklistitem IN EXCLUSIVE MODE")
            yield
            conn.rollback()
        return
    conn = sqlite3.connect(var / "zwgk.db", isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield
        conn.execute("ROLLBACK")
    finally:
        conn.close()


def test_a_completion_waiting_on_the_database_holds_up_no_other_request(
    web: str, directory: str, smtp: SMTPServer, env: Path, database_url: str | None
) -> None:
    """Handlers do their database work in the threadpool: while one waits for a lock, the
    service still answers (an async handler blocking the event loop would stall them all)."""
    _assign_and_mail(smtp)
    link = _link_for(smtp, "jyj@test.example.gov.cn")
    item = _items("jyj@test.example.gov.cn")[0]
    posted: list[tuple[int, str, str]] = []
    with _writes_locked(database_url, env):
        post = threading.Thread(
            target=lambda: posted.append(
                _post(f"{link}/items/{item.id}", evidence="https://a.example.cn/1")
            )
        )
        post.start()
        answered = 0
        window = time.monotonic() + 3
        while time.monotonic() < window:  # the POST is waiting on the lock all this time
            with urllib.request.urlopen(web + "/health", timeout=2) as r:
                answered += r.status == 200
            assert _get(link)[0] == 200  # a page that only reads
        assert answered >= 3 and post.is_alive() and posted == []
    post.join(timeout=30)
    assert posted and posted[0][0] == 303
    assert next(i for i in _items("jyj@test.example.gov.cn") if i.id == item.id).status == "done"


def test_complete_twice_is_harmless(web: str, directory: str, smtp: SMTPServer) -> None:
    _assign_and_mail(smtp)
    link = _link_for(smtp, "jyj@test.example.gov.cn")
    item = _items("jyj@test.example.gov.cn")[0]
    status, _, location = _post(
        f"{link}/items/{item.id}", evidence="https://a.example.cn/1", note="已发布"
    )
    assert status == 303 and f"done={item.id}" in location
    status, _, _ = _post(f"{link}/items/{item.id}", evidence="https://a.example.cn/2")
    assert status == 303
    done = next(i for i in _items("jyj@test.example.gov.cn") if i.id == item.id)
    assert done.status == "done" and done.evidence == "https://a.example.cn/1"
    assert done.completed_by and done.completed_by.startswith("区教育局")
    with session_scope() as s:
        events = list(s.exec(select(ItemEvent).where(ItemEvent.item_id == item.id)))
    assert [e.action for e in events] == ["complete"]


# --------------------------------------------------------------------------- Chromium


def _chromium_driver():  # type: ignore[no-untyped-def]
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    chromedriver = shutil.which("chromedriver")
    if not chromium or not chromedriver:
        unavailable(
            "Debian's chromium and chromium-driver are not installed (make test installs them)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
        "--disable-extensions",
    ):
        opts.add_argument(flag)
    # JavaScript off: the page must work in a browser that runs none.
    opts.add_experimental_option(
        "prefs", {"profile.managed_default_content_settings.javascript": 2}
    )
    return webdriver.Chrome(service=Service(chromedriver), options=opts)


def wait(driver, by, value):  # type: ignore[no-untyped-def]
    """The element once the page that has it has loaded (a click returns before that)."""
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, 15).until(ec.presence_of_element_located((by, value)))


@pytest.mark.browser
def test_unit_completes_from_emailed_link_in_chromium(
    web: str, directory: str, smtp: SMTPServer, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    _assign_and_mail(smtp)
    link = _link_for(smtp, "jyj@test.example.gov.cn")
    item = _items("jyj@test.example.gov.cn")[0]
    driver = _chromium_driver()
    try:
        driver.set_page_load_timeout(30)
        driver.set_window_size(1366, 768)  # the office PC's usual screen
        driver.get(link)
        assert "区教育局" in driver.title
        row = driver.find_element(By.ID, f"item-{item.id}")
        # Narrow cells keep their text on one line beside the wide form (they wrapped one
        # character per line at 1366 px beside a work-plan task's long text): the
        # deadline, the role and the number. The long text is put in the page here.
        driver.execute_script(
            "arguments[0].cells[1].textContent = arguments[1];"
            "arguments[0].cells[2].textContent = arguments[1];",
            row,
            "健全完善政务公开工作机制，" * 30,
        )
        for cell in row.find_elements(By.CSS_SELECTOR, ".nw"):
            lines = driver.execute_script(
                "const r = document.createRange(); r.selectNodeContents(arguments[0]);"
                "return new Set([...r.getClientRects()].map(b => Math.round(b.top))).size",
                cell,
            )
            assert lines == 1, cell.text
        driver.save_screenshot(str(tmp_path / "open.png"))
        # An empty form first: refused on the page, nothing recorded.
        row.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
        assert (
            "请填写公开网址（以 http:// 或 https:// 开头）或上传附件"
            in wait(driver, By.ID, "error-message").text
        )
        row = driver.find_element(By.ID, f"item-{item.id}")
        row.find_element(By.NAME, "evidence").send_keys("https://www.shcn.gov.cn/xxgk/jyj/ml2026")
        row.find_element(By.NAME, "note").send_keys("已在本单位信息公开专栏发布")
        row.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
        assert f"事项 {item.id} 已登记完成" in wait(driver, By.ID, "done-message").text
        assert driver.find_element(By.CSS_SELECTOR, f"#closed-{item.id} .status").text == "已完成"
        driver.save_screenshot(str(tmp_path / "done.png"))

        driver.get(link[:-2] + ("yy" if link.endswith("xx") else "xx"))
        assert "链接无效" in wait(driver, By.ID, "refusal").text
    finally:
        driver.quit()
    done = next(i for i in _items("jyj@test.example.gov.cn") if i.id == item.id)
    assert done.status == "done" and done.evidence == "https://www.shcn.gov.cn/xxgk/jyj/ml2026"
    assert done.note == "已在本单位信息公开专栏发布"


def test_the_bare_address_says_where_to_go(web: str) -> None:
    """The front door answers 200 (a newcomer's `curl -f` of it means "the service is up")
    and tells a visitor to use the link in their mail; it shows no unit's data."""
    status, body = _get(web + "/")
    assert status == 200
    assert "请通过通知邮件中的专属链接访问本单位的填报页面" in body
