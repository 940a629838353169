# ruff: noqa: F811  (the fixtures imported from test_admin_web are the tests' arguments)
"""The outbox from the workbench (/admin/outbox): every authorisation rule over HTTP, retry
(one, all) through the real SMTP test server made to refuse and then accept, the audit
entry, paging and the district scope; one headless Chromium run clicking 重试."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlmodel import col, select
from starlette.testclient import TestClient

from models import OutboxMessage, Unit
from models.outbox import OutboxStatus
from notifications.outbox import enqueue_many
from notifications.outbox_send import dispatch
from tests.smtpd import SMTPServer
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
from zwgk.config import get_settings
from zwgk.db import session_scope

pytestmark = pytest.mark.smtp


def _messages(district: str | None = None) -> list[OutboxMessage]:
    with session_scope() as s:
        stmt = select(OutboxMessage).order_by(col(OutboxMessage.id))
        if district is not None:
            stmt = stmt.join(Unit, col(Unit.id) == col(OutboxMessage.unit_id)).where(
                Unit.district == district
            )
        return list(s.exec(stmt))


def _message(mid: int) -> OutboxMessage:
    with session_scope() as s:
        msg = s.get(OutboxMessage, mid)
        assert msg is not None
        return msg


@pytest.fixture
def refused(items: dict[str, list[int]], accounts: None, smtp: SMTPServer) -> dict[str, list[int]]:
    """Both districts' assignment mails refused by the mail server (554): all failed.
    Returns each district's message ids."""
    smtp.recorder.behaviour.data_reply = "554 5.7.1 message rejected"
    report = dispatch(settings=get_settings(), respect_backoff=False)
    assert report.failed and not report.sent
    smtp.recorder.clear()  # the server accepts mail again
    out = {d: [m.id for m in _messages(d)] for d in ("测试区", OTHER)}
    assert all(_message(i).status == OutboxStatus.failed for ids in out.values() for i in ids)
    return out  # type: ignore[return-value]


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


# --------------------------------------------------------------------------- who may do what


def test_anonymous_is_sent_to_login_and_changes_nothing(
    client: TestClient, refused: dict[str, list[int]], smtp: SMTPServer
) -> None:
    r = client.get("/admin/outbox?status=failed")
    assert r.status_code == 303 and r.headers["location"].startswith("/admin/login")
    mid = refused["测试区"][0]
    for path in (f"/admin/outbox/{mid}/retry", "/admin/outbox/retry-all"):
        r = client.post(path, data={"csrf_token": "x"})
        assert r.status_code == 303 and r.headers["location"].startswith("/admin/login")
    assert _message(mid).status == OutboxStatus.failed
    assert not _audit("outbox-retry") and smtp.messages == []


def test_viewer_reads_the_outbox_but_cannot_retry(
    client: TestClient, refused: dict[str, list[int]], smtp: SMTPServer
) -> None:
    csrf = login(client, "lingdao")
    page = client.get("/admin/outbox")
    assert page.status_code == 200
    assert "发送失败" in page.text and "554" in page.text  # the server's reason, in the list
    assert 'class="retry"' not in page.text and "全部重试" not in page.text
    mid = refused[OTHER][0]
    for path in (f"/admin/outbox/{mid}/retry", "/admin/outbox/retry-all"):
        r = client.post(path, data={"csrf_token": csrf})
        assert r.status_code == 403 and "只读账号" in r.text
    assert _message(mid).status == OutboxStatus.failed
    assert not _audit("outbox-retry") and smtp.messages == []


def test_retry_without_csrf_token_is_403_and_changes_nothing(
    client: TestClient, refused: dict[str, list[int]], smtp: SMTPServer
) -> None:
    login(client, "wangjing")
    mid = refused["测试区"][0]
    for data in ({}, {"csrf_token": "forged"}):
        r = client.post(f"/admin/outbox/{mid}/retry", data=data)
        assert r.status_code == 403 and "未作任何改动" in r.text
        r = client.post("/admin/outbox/retry-all", data=data)
        assert r.status_code == 403
    assert all(m.status == OutboxStatus.failed for m in _messages())
    assert not _audit("outbox-retry") and smtp.messages == []


def test_a_district_admin_sees_and_retries_only_their_district(
    client: TestClient, refused: dict[str, list[int]], smtp: SMTPServer
) -> None:
    csrf = login(client, "chenli")  # admin of 测试区
    page = client.get("/admin/outbox")
    shown = {int(i) for i in re.findall(r'id="message-(\d+)"', page.text)}
    assert shown == set(refused["测试区"])
    assert "仅显示发往测试区各单位的邮件" in page.text
    theirs = refused[OTHER][0]
    r = client.post(f"/admin/outbox/{theirs}/retry", data={"csrf_token": csrf})
    assert r.status_code == 403 and "不在您账号的管辖范围内" in r.text
    assert _message(theirs).status == OutboxStatus.failed
    r = client.post("/admin/outbox/99999/retry", data={"csrf_token": csrf})
    assert r.status_code == 404 and "没有编号为「99999」的邮件" in r.text
    # 全部重试: the district's own messages only.
    r = client.post("/admin/outbox/retry-all", data={"csrf_token": csrf})
    assert r.status_code == 303
    assert all(m.status == OutboxStatus.sent for m in _messages("测试区"))
    assert all(m.status == OutboxStatus.failed for m in _messages(OTHER))
    assert len(smtp.messages) == len(refused["测试区"])
    (entry,) = _audit("outbox-retry")
    assert entry.user == "chenli" and entry.district == "测试区"
    assert entry.after and entry.after["count"] == len(refused["测试区"])
    notice = client.get(r.headers["location"]).text
    assert f"已发送 {len(refused['测试区'])} 封" in notice
    # Submitted again: nothing left to retry, nothing written.
    r = client.post("/admin/outbox/retry-all", data={"csrf_token": csrf})
    assert "没有发送失败或等待重试的邮件" in client.get(r.headers["location"]).text
    assert len(_audit("outbox-retry")) == 1


# --------------------------------------------------------------------------- retry


def test_retry_puts_a_failed_message_back_and_sends_it_once(
    client: TestClient, refused: dict[str, list[int]], smtp: SMTPServer
) -> None:
    csrf = login(client, "wangjing")
    mid = refused["测试区"][0]
    page = client.get("/admin/outbox?status=failed")
    assert f'action="/admin/outbox/{mid}/retry"' in page.text
    r = client.post(
        f"/admin/outbox/{mid}/retry", data={"csrf_token": csrf, "status": "failed", "page": "1"}
    )
    assert r.status_code == 303 and r.headers["location"] == "/admin/outbox?status=failed"
    msg = _message(mid)
    assert msg.status == OutboxStatus.sent and msg.sent_at is not None
    assert [m.rcpt_tos for m in smtp.messages] == [[msg.recipient]]
    back = client.get(r.headers["location"]).text
    assert f"邮件 #{mid} 已重新排队并发送：已发送 1 封" in back
    (entry,) = _audit("outbox-retry")
    assert entry.user == "wangjing" and entry.target == f"outbox {mid}"
    assert (
        entry.before and entry.before["status"] == "failed" and "554" in entry.before["last_error"]
    )
    assert entry.district == "测试区"
    # The same form again: nothing to retry, nothing sent or written twice.
    r = client.post(f"/admin/outbox/{mid}/retry", data={"csrf_token": csrf})
    assert r.status_code == 409 and "已发送" in r.text and "无需重试" in r.text
    assert len(smtp.messages) == 1 and len(_audit("outbox-retry")) == 1
    # The rest of the district is still failed.
    assert all(_message(i).status == OutboxStatus.failed for i in refused["测试区"][1:])


def test_retry_while_the_server_still_refuses_leaves_it_waiting(
    client: TestClient, refused: dict[str, list[int]], smtp: SMTPServer
) -> None:
    """Back to pending: a temporary refusal (451) counts one attempt and waits its backoff."""
    csrf = login(client, "wangjing")
    mid = refused["测试区"][0]
    smtp.recorder.behaviour.data_reply = "451 4.3.0 try again later"
    r = client.post(f"/admin/outbox/{mid}/retry", data={"csrf_token": csrf})
    assert r.status_code == 303
    msg = _message(mid)
    assert msg.status == OutboxStatus.pending and msg.attempts == 1
    assert msg.next_attempt_at is not None and "451" in (msg.last_error or "")
    page = client.get(r.headers["location"]).text
    assert "暂未发出" in page
    row = re.search(rf'<tr class="message" id="message-{mid}".*?</tr>', page, re.S)
    assert row and "等待重试" in row.group(0) and "后自动重试" in row.group(0)


def test_the_list_is_paged_filtered_and_counted(
    client: TestClient, refused: dict[str, list[int]]
) -> None:
    with session_scope() as s:
        unit = s.exec(select(Unit).where(Unit.district == "测试区")).first()
        assert unit is not None
        enqueue_many(
            session=s,
            messages=[
                OutboxMessage(
                    key=f"test:{n}",
                    recipient=unit.email,
                    unit_id=unit.id,
                    obligation="monthly-filing",
                    period="2026-12",
                    kind="reminder",
                    subject=f"测试提醒第{n}号",
                    body_text="x",
                    body_html="x",
                )
                for n in range(120)
            ],
        )
    login(client, "wangjing")
    total = len(_messages())
    first = client.get("/admin/outbox").text
    assert f"共 {total} 封，第 1/{(total + 49) // 50} 页" in first
    assert first.count('class="message"') == 50
    assert "测试提醒第119号" in first  # newest first
    last_page = (total + 49) // 50
    last = client.get(f"/admin/outbox?page={last_page}").text
    assert last.count('class="message"') == total - 50 * (last_page - 1)
    past = client.get(f"/admin/outbox?page={last_page + 5}", follow_redirects=False)
    assert past.status_code == 303 and past.headers["location"].endswith(f"page={last_page}")
    filtered = client.get("/admin/outbox?status=failed&page=7", follow_redirects=False)
    assert filtered.headers["location"] == "/admin/outbox?status=failed"  # page 1 of 1
    failed = client.get("/admin/outbox?status=failed").text
    n_failed = sum(len(v) for v in refused.values())
    assert failed.count('data-status="failed"') == n_failed
    assert failed.count('class="message"') == n_failed
    pending = client.get("/admin/outbox?status=pending").text
    assert "共 120 封" in pending and 'id="next"' in pending
    assert client.get("/admin/outbox?status=nonsense&page=x").status_code == 200


@pytest.mark.parametrize("odd", ["²", "٣", "99999999999999999999999"])
def test_an_odd_page_or_id_is_page_one_or_the_404_page(
    client: TestClient, refused: dict[str, list[int]], smtp: SMTPServer, odd: str
) -> None:
    csrf = login(client, "wangjing")
    r = client.get(f"/admin/outbox?page={odd}")
    total = len(_messages())
    assert r.status_code == 200 and f"共 {total} 封，第 1/1 页" in r.text
    r = client.post(f"/admin/outbox/{odd}/retry", data={"csrf_token": csrf})
    assert r.status_code == 404 and f"没有编号为「{odd}」的邮件" in r.text
    # The list to return to: page 1 of the status asked for.
    mid = refused["测试区"][0]
    r = client.post(
        f"/admin/outbox/{mid}/retry", data={"csrf_token": csrf, "status": "failed", "page": odd}
    )
    assert r.status_code == 303 and r.headers["location"] == "/admin/outbox?status=failed"
    r = client.post("/admin/outbox/retry-all", data={"csrf_token": csrf, "page": odd})
    assert r.status_code == 303 and r.headers["location"] == "/admin/outbox"


# --------------------------------------------------------------------------- Chromium


@pytest.mark.browser
def test_retry_in_chromium(
    web: str, items: dict[str, list[int]], accounts: None, smtp: SMTPServer, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.browser import page_left
    from tests.test_web import _chromium_driver, wait

    smtp.recorder.behaviour.data_reply = "554 5.7.1 message rejected"
    dispatch(settings=get_settings(), respect_backoff=False)
    smtp.recorder.clear()
    mid = items["测试区"] and _messages("测试区")[0].id
    driver = _chromium_driver()  # JavaScript off
    try:
        driver.set_page_load_timeout(30)
        driver.set_window_size(1366, 768)
        driver.get(web + "/admin/login")
        wait(driver, By.ID, "username").send_keys("wangjing")
        driver.find_element(By.ID, "password").send_keys(PASSWORD)
        html = driver.find_element(By.TAG_NAME, "html")
        driver.find_element(By.ID, "login").click()
        WebDriverWait(driver, 15).until(page_left(html))
        driver.find_element(By.LINK_TEXT, "发件箱").click()
        wait(driver, By.ID, "filter-failed").click()
        row = wait(driver, By.ID, f"message-{mid}")
        assert "发送失败" in row.text and "554" in row.text
        _screenshot(driver, tmp_path, "admin-outbox.png")
        html = driver.find_element(By.TAG_NAME, "html")
        row.find_element(By.CSS_SELECTOR, "input.retry").click()
        WebDriverWait(driver, 30).until(page_left(html))
        assert f"邮件 #{mid} 已重新排队并发送：已发送 1 封" in wait(driver, By.ID, "notice").text
        assert "status=failed" in driver.current_url
        assert not driver.find_elements(By.ID, f"message-{mid}")  # no longer failed
    finally:
        driver.quit()
    assert _message(mid).status == OutboxStatus.sent  # type: ignore[arg-type]
    assert len(smtp.messages) == 1
    assert [e.user for e in _audit("outbox-retry")] == ["wangjing"]


def test_cli_retry_reaches_the_audit_log(
    refused: dict[str, list[int]], smtp: SMTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """`zwgk outbox retry` is logged as the workbench logs it: who (cli:<user>), the message,
    its status and reason before; a retry with nothing to do logs nothing."""
    from tests.cli import run_inprocess

    mid = refused[OTHER][0]
    r = run_inprocess(capsys, "outbox", "retry", str(mid))
    assert r.code == 0 and "已发送 1 封" in r.out, r.err
    (entry,) = _audit("outbox-retry")
    assert entry.user.startswith("cli") and entry.target == f"outbox {mid}"
    assert entry.district == OTHER and entry.before and entry.before["status"] == "failed"
    r = run_inprocess(capsys, "outbox", "retry", str(mid))
    assert r.code == 1 and "无需重试" in r.err
    r = run_inprocess(capsys, "outbox", "retry", "--all")
    assert r.code == 0
    assert [e.target for e in _audit("outbox-retry")] == [f"outbox {mid}", "outbox"]
    assert _audit("outbox-retry")[1].after == {"count": len(_messages()) - 1}
