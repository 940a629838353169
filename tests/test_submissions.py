# ruff: noqa: F811  (the fixtures imported from test_admin_web are the tests' arguments)
"""Units' submissions with attachments and the office's review (issue 14, items 7 and 8):
HTTP tests on a real SQLite file (upload checks, who may download, double submission, 本期无,
退回 through the outbox and the real SMTP test server) and one real headless Chromium run
of the whole round trip."""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from pathlib import Path

import pytest
from docx import Document
from sqlmodel import select
from starlette.testclient import TestClient

from models import Attachment, ChecklistItem, ItemEvent, OutboxMessage, Submission, Unit
from models.submission import ReviewState
from notifications.links import sign, verify
from tests.test_admin_web import (  # noqa: F401  (fixtures)
    OTHER,
    PASSWORD,
    _audit,
    accounts,
    client,
    items,
    login,
)
from zwgk.access.accounts import add_user
from zwgk.config import get_settings
from zwgk.db import session_scope

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _filing(district: str, n: int = 0) -> tuple[int, int]:
    """(item id, unit id) of the n-th monthly-filing item of ``district`` (needs review,
    allows 本期无)."""
    with session_scope() as s:
        rows = s.exec(
            select(ChecklistItem.id, Unit.id)
            .where(ChecklistItem.unit_id == Unit.id)
            .where(Unit.district == district)
            .where(ChecklistItem.obligation == "monthly-filing")
            .order_by(ChecklistItem.id)
        ).all()
    return rows[n]  # type: ignore[return-value]


def _token(unit_id: int) -> str:
    return sign(unit_id, get_settings())


def _linked_unit(text: str) -> int:
    """The unit a mail's link is for (the token's expiry moves with the clock)."""
    match = re.search(r"/u/(\S+)", text)
    assert match, text
    return verify(match.group(1), get_settings()).unit_id


def _upload(c: TestClient, unit_id: int, item_id: int, name: str, data: bytes, **fields: str):  # type: ignore[no-untyped-def]
    return c.post(
        f"/u/{_token(unit_id)}/items/{item_id}",
        data={"evidence": "", "note": "", **fields},
        files={"attachment": (name, data, "application/octet-stream")},
    )


def _stored(env: Path) -> list[Path]:
    folder = env / "attachments"
    return sorted(folder.iterdir()) if folder.exists() else []


def _subs(item_id: int) -> list[Submission]:
    with session_scope() as s:
        return list(s.exec(select(Submission).where(Submission.item_id == item_id)))


def _docx() -> bytes:
    buf = io.BytesIO()
    doc = Document()
    doc.add_paragraph("本月新增公文备案清单")
    doc.save(buf)
    return buf.getvalue()


def test_a_pdf_without_url_completes_and_waits_for_review(
    client: TestClient, items: dict[str, list[int]], env: Path
) -> None:
    item_id, unit_id = _filing("测试区")
    r = _upload(client, unit_id, item_id, "备案清单.pdf", PDF, note="见附件")
    assert r.status_code == 303, r.text
    with session_scope() as s:
        item = s.get(ChecklistItem, item_id)
        assert item is not None and item.status == "done" and item.evidence is None
        att = s.exec(select(Attachment).where(Attachment.item_id == item_id)).one()
    [sub] = _subs(item_id)
    assert sub.review == ReviewState.awaiting and sub.note == "见附件"
    assert att.filename == "备案清单.pdf" and att.content_type == "application/pdf"
    [path] = _stored(env)
    assert path.name == att.stored_as and "备案" not in path.name and len(path.name) == 32
    assert path.read_bytes() == PDF
    token = _token(unit_id)  # one token: its expiry moves with the clock's second
    page = client.get(f"/u/{token}").text
    assert "待审核" in page and f"/u/{token}/files/{att.id}" in page
    assert "已报送，待审核" in page  # its status, not 已完成, until the office accepts it


@pytest.mark.parametrize(
    ("name", "data", "kind"),
    [
        ("scan.jpg", b"\xff\xd8\xff\xe0" + b"0" * 64, "image/jpeg"),
        ("shot.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, "image/png"),
        ("清单.docx", "docx", "wordprocessingml"),
        ("named-wrongly.pdf", b"\x89PNG\r\n\x1a\n" + b"0" * 64, "image/png"),
    ],
)
def test_accepted_kinds_are_told_by_content(
    client: TestClient, items: dict[str, list[int]], name: str, data: bytes | str, kind: str
) -> None:
    item_id, unit_id = _filing("测试区")
    body = _docx() if data == "docx" else data
    assert _upload(client, unit_id, item_id, name, body).status_code == 303  # type: ignore[arg-type]
    with session_scope() as s:
        att = s.exec(select(Attachment).where(Attachment.item_id == item_id)).one()
    assert kind in att.content_type
    if name == "named-wrongly.pdf":
        assert att.filename == "named-wrongly.png"  # offered with the extension of its content


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("通知.pdf", b"<html><script>alert(1)</script></html>"),  # a web page named .pdf
        ("macro.docx", "zip"),  # a ZIP that is not a Word document
        ("run.exe", b"MZ\x90\x00" + b"0" * 64),
    ],
)
def test_other_kinds_are_refused_and_nothing_is_kept(
    client: TestClient, items: dict[str, list[int]], env: Path, name: str, data: bytes | str
) -> None:
    item_id, unit_id = _filing("测试区")
    if data == "zip":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("payload.txt", "x")
        data = buf.getvalue()
    r = _upload(client, unit_id, item_id, name, data, evidence="https://example.gov.cn/a")  # type: ignore[arg-type]
    assert r.status_code == 415
    assert "不是可接受的文件类型" in r.text and "PDF、DOCX、XLSX、JPG、PNG" in r.text
    assert "Traceback" not in r.text
    assert _subs(item_id) == [] and _stored(env) == []
    with session_scope() as s:
        assert s.get(ChecklistItem, item_id).status == "pending"  # type: ignore[union-attr]


def test_a_file_over_20_mb_is_refused(
    client: TestClient, items: dict[str, list[int]], env: Path
) -> None:
    item_id, unit_id = _filing("测试区")
    big = PDF + b"0" * (20 * 1024 * 1024)  # just over 20 MB, within the request's slack
    r = _upload(client, unit_id, item_id, "大文件.pdf", big)
    assert r.status_code == 413 and "超过 20 MB" in r.text
    huge = PDF + b"0" * (22 * 1024 * 1024)  # refused by its declared length, unread
    r = _upload(client, unit_id, item_id, "更大.pdf", huge)
    assert r.status_code == 413 and "超过 20 MB" in r.text
    assert _subs(item_id) == [] and _stored(env) == []


def test_neither_url_nor_file_is_refused(client: TestClient, items: dict[str, list[int]]) -> None:
    item_id, unit_id = _filing("测试区")
    r = client.post(f"/u/{_token(unit_id)}/items/{item_id}", data={"evidence": "", "note": "x"})
    assert r.status_code == 400 and "请填写公开网址" in r.text and "上传附件" in r.text
    assert _subs(item_id) == []


def test_another_units_item_is_refused_and_its_file_not_kept(
    client: TestClient, items: dict[str, list[int]], env: Path
) -> None:
    item_id, _unit_id = _filing("测试区", 0)
    _other_item, other_unit = _filing("测试区", 1)
    r = _upload(client, other_unit, item_id, "清单.pdf", PDF)
    assert r.status_code == 404 and "不属于本单位" in r.text
    assert _subs(item_id) == [] and _stored(env) == []


def test_double_submission_is_written_once(
    client: TestClient, items: dict[str, list[int]], env: Path
) -> None:
    item_id, unit_id = _filing("测试区")
    for _ in range(2):
        assert _upload(client, unit_id, item_id, "清单.pdf", PDF).status_code == 303
    assert len(_subs(item_id)) == 1 and len(_stored(env)) == 1
    with session_scope() as s:
        events = s.exec(select(ItemEvent).where(ItemEvent.item_id == item_id)).all()
    assert [e.action for e in events] == ["complete"]


def test_two_forms_sent_at_once_write_once(
    web: str, items: dict[str, list[int]], env: Path
) -> None:
    """Two uploads of the same item racing on the real server: one submission, one file."""
    import threading

    import httpx

    item_id, unit_id = _filing("测试区")
    url = f"{web}/u/{_token(unit_id)}/items/{item_id}"
    statuses: list[int] = []
    start = threading.Barrier(4)

    def send(n: int) -> None:
        start.wait()
        r = httpx.post(
            url,
            data={"evidence": "", "note": f"第{n}次"},
            files={"attachment": ("清单.pdf", PDF + bytes([n]), "application/pdf")},
            timeout=30,
        )
        statuses.append(r.status_code)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [303] * 4
    assert len(_subs(item_id)) == 1 and len(_stored(env)) == 1
    with session_scope() as s:
        events = s.exec(select(ItemEvent).where(ItemEvent.item_id == item_id)).all()
        att = s.exec(select(Attachment).where(Attachment.item_id == item_id)).one()
    assert [e.action for e in events] == ["complete"]
    assert _stored(env)[0].name == att.stored_as


def test_nil_with_a_reason_where_the_obligation_allows_it(
    client: TestClient, items: dict[str, list[int]]
) -> None:
    item_id, unit_id = _filing("测试区")
    url = f"/u/{_token(unit_id)}/items/{item_id}"
    assert "本期无" in client.get(f"/u/{_token(unit_id)}").text
    r = client.post(url, data={"nil": "1", "nil_reason": " "})
    assert r.status_code == 400 and "须说明理由" in r.text
    r = client.post(url, data={"nil": "1", "nil_reason": "本月无新增公文"})
    assert r.status_code == 303
    [sub] = _subs(item_id)
    assert sub.nil_reason == "本月无新增公文" and sub.review == ReviewState.awaiting
    # The decision catalogue does not allow it.
    with session_scope() as s:
        other = s.exec(
            select(ChecklistItem)
            .where(ChecklistItem.unit_id == unit_id)
            .where(ChecklistItem.obligation == "decision-catalogue")
        ).first()
    if other is not None:
        r = client.post(
            f"/u/{_token(unit_id)}/items/{other.id}", data={"nil": "1", "nil_reason": "无"}
        )
        assert r.status_code == 400 and "不适用" in r.text


def test_who_may_download(
    client: TestClient, items: dict[str, list[int]], accounts: None, env: Path
) -> None:
    item_id, unit_id = _filing("测试区", 0)
    _other_item, other_unit = _filing("测试区", 1)
    assert _upload(client, unit_id, item_id, "清单.pdf", PDF).status_code == 303
    with session_scope() as s:
        att = s.exec(select(Attachment).where(Attachment.item_id == item_id)).one()
        add_user(
            session=s, name="zhouli", role="admin", district=OTHER, password=PASSWORD, actor="t"
        )
    own = client.get(f"/u/{_token(unit_id)}/files/{att.id}")
    assert own.status_code == 200 and own.content == PDF
    assert own.headers["content-type"] == "application/pdf"
    assert "attachment;" in own.headers["content-disposition"]
    assert client.get(f"/u/{_token(other_unit)}/files/{att.id}").status_code == 404
    assert client.get(f"/u/{_token(unit_id)}x/files/{att.id}").status_code == 403
    anon = client.get(f"/admin/files/{att.id}")
    assert anon.status_code == 303 and anon.headers["location"].startswith("/admin/login")
    assert client.get(f"/files/{att.id}").status_code == 404  # nothing under the web root
    for name, status in (("wangjing", 200), ("chenli", 200), ("lingdao", 200), ("zhouli", 403)):
        client.cookies.clear()
        login(client, name)
        r = client.get(f"/admin/files/{att.id}")
        assert r.status_code == status, name
        if status == 200:
            assert r.content == PDF
    item_page = client.get(f"/admin/items/{item_id}")
    assert item_page.status_code == 403  # zhouli: another district's item


def test_return_reopens_mails_the_reason_and_shows_the_round_trip(
    client: TestClient,
    items: dict[str, list[int]],
    accounts: None,
    smtp,
    env: Path,  # type: ignore[no-untyped-def]
) -> None:
    item_id, unit_id = _filing("测试区")
    assert _upload(client, unit_id, item_id, "清单.pdf", PDF).status_code == 303
    url = f"/admin/items/{item_id}/return"
    reason = "附件缺少第3页，请补充完整后重新上传"
    # A viewer may look but not send back; no CSRF token, no change.
    csrf = login(client, "lingdao")
    assert client.post(url, data={"reason": reason, "csrf_token": csrf}).status_code == 403
    client.cookies.clear()
    with session_scope() as s:
        add_user(
            session=s, name="zhouli", role="admin", district=OTHER, password=PASSWORD, actor="t"
        )
    csrf = login(client, "zhouli")  # an admin of another district
    r = client.post(url, data={"reason": reason, "csrf_token": csrf})
    assert r.status_code == 403 and "不在您账号的管辖范围内" in r.text
    client.cookies.clear()
    csrf = login(client, "chenli")
    assert client.post(url, data={"reason": reason}).status_code == 403
    assert _subs(item_id)[0].review == ReviewState.awaiting
    dash = client.get("/admin/")
    assert "待审核的单位填报 1 件" in dash.text and f"/admin/items/{item_id}" in dash.text
    page = client.get(f"/admin/items/{item_id}").text
    assert "通过" in page and "退回" in page and "/admin/files/" in page
    r = client.post(url, data={"reason": " ", "csrf_token": csrf})
    assert r.status_code == 400 and "退回须说明理由" in r.text
    r = client.post(url, data={"reason": reason, "csrf_token": csrf})
    assert r.status_code == 303
    # The double-submitted 退回 (or a 通过 after it) lands on the item page, written once.
    for again in (url, f"/admin/items/{item_id}/accept"):
        r = client.post(again, data={"reason": reason, "csrf_token": csrf})
        assert r.status_code == 303, r.text
        assert r.headers["location"] == f"/admin/items/{item_id}?done=reviewed"
        shown = client.get(r.headers["location"]).text
        assert "该填报已审核（已退回），未重复办理" in shown and "未能办理" not in shown
    with session_scope() as s:
        item = s.get(ChecklistItem, item_id)
        assert item is not None and item.status == "pending" and item.completed_at is None
        [msg] = s.exec(select(OutboxMessage).where(OutboxMessage.kind == "returned")).all()
        unit = s.get(Unit, unit_id)
    assert msg.recipient == unit.email  # type: ignore[union-attr]
    assert reason in msg.body_text and _linked_unit(msg.body_text) == unit_id
    [sub] = _subs(item_id)
    assert sub.review == ReviewState.returned and sub.return_reason == reason
    assert sub.reviewed_by == "chenli"
    [entry] = _audit("return")
    assert entry.user == "chenli" and reason in entry.detail
    assert entry.before == {"status": "done"} or entry.before["status"] == "done"  # type: ignore[index]
    history = client.get(f"/admin/items/{item_id}").text
    assert "登记完成" in history and "退回" in history and reason in history
    # The mail went out right after the response, through the real SMTP server: no outbox
    # run was needed.
    with session_scope() as s:
        sent = s.get(OutboxMessage, msg.id)
        assert sent is not None and sent.status == "sent"
    [mail] = [m for m in smtp.messages if m.rcpt_tos == [unit.email]]  # type: ignore[union-attr]
    assert "退回" in mail.subject and reason in mail.text() and reason in mail.html()
    # The unit sees the reason and can submit again; the office accepts it.
    assert reason in client.get(f"/u/{_token(unit_id)}").text
    assert _upload(client, unit_id, item_id, "清单-补充.pdf", PDF + b"%page3").status_code == 303
    assert (
        client.post(f"/admin/items/{item_id}/accept", data={"csrf_token": csrf}).status_code == 303
    )
    assert [s.review for s in _subs(item_id)] == [ReviewState.returned, ReviewState.accepted]
    r = client.post(f"/admin/items/{item_id}/accept", data={"csrf_token": csrf})
    assert r.status_code == 303 and r.headers["location"].endswith("?done=reviewed")
    assert "该填报已审核（已通过），未重复办理" in client.get(r.headers["location"]).text
    assert len(_audit("accept")) == 1 and len(_audit("return")) == 1
    assert "待审核的单位填报" not in client.get("/admin/").text


@pytest.mark.parametrize("where", ["cli", "web"])
def test_reopen_leaves_no_submission_awaiting_review(
    client: TestClient,
    items: dict[str, list[int]],
    accounts: None,
    capsys: pytest.CaptureFixture[str],
    where: str,
) -> None:
    """Reopening an item whose submission awaits review (zwgk reopen, or the item page's
    重新打开) takes the submission out of review: marked returned with the reason, a history
    line, nothing 待审核 left on the dashboard or in zwgk status; no 退回 mail."""
    from tests.cli import run_inprocess
    from workflows.submissions import awaiting_review

    item_id, unit_id = _filing("测试区")
    assert _upload(client, unit_id, item_id, "清单.pdf", PDF).status_code == 303
    csrf = login(client, "chenli")
    assert "待审核的单位填报 1 件" in client.get("/admin/").text
    if where == "cli":
        r = run_inprocess(capsys, "reopen", str(item_id), "--reason", "登记有误", "--by", "王静")
        assert r.code == 0, r.err
        assert "待审核的填报随之撤销" in r.out
        by = "王静"
    else:
        r = client.post(
            f"/admin/items/{item_id}/reopen", data={"reason": "登记有误", "csrf_token": csrf}
        )
        assert r.status_code == 303, r.text
        by = "chenli"
    [sub] = _subs(item_id)
    assert sub.review == ReviewState.returned and sub.reviewed_by == by
    assert sub.return_reason == "重新打开：登记有误（未经审核）"
    with session_scope() as s:
        item = s.get(ChecklistItem, item_id)
        assert item is not None and item.status == "pending"
        assert awaiting_review(session=s) == []
        assert not s.exec(select(OutboxMessage).where(OutboxMessage.kind == "returned")).all()
    page = client.get(f"/admin/items/{item_id}").text
    assert "登记有误；待审核的填报随之撤销，不再审核" in page
    dash = client.get("/admin/").text
    assert "待审核的单位填报" not in dash
    rows = json.loads(run_inprocess(capsys, "status", "--json").out)
    assert not any(r["awaiting_review"] for r in rows)
    # The unit may hand it in again, and it waits for review afresh.
    assert _upload(client, unit_id, item_id, "清单2.pdf", PDF + b"%2").status_code == 303
    assert [s.review for s in _subs(item_id)] == [ReviewState.returned, ReviewState.awaiting]


@pytest.mark.browser
def test_upload_download_and_return_in_chromium(
    web: str,
    items: dict[str, list[int]],
    accounts: None,
    smtp,
    env: Path,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    """A unit uploads a PDF with no URL → the office downloads it from the item page →
    退回 with a reason → the unit's mail quotes it."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.browser import page_left
    from tests.test_admin_web import _screenshot
    from tests.test_web import _chromium_driver, wait

    item_id, unit_id = _filing("测试区")
    pdf = tmp_path / "备案清单.pdf"
    pdf.write_bytes(PDF)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver = _chromium_driver()
    try:
        driver.set_page_load_timeout(30)
        driver.set_window_size(1366, 768)
        driver.execute_cdp_cmd(
            "Browser.setDownloadBehavior",
            {"behavior": "allow", "downloadPath": str(downloads)},
        )
        driver.get(f"{web}/u/{_token(unit_id)}")
        row = wait(driver, By.ID, f"item-{item_id}")
        row.find_element(By.NAME, "attachment").send_keys(str(pdf))
        row.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
        assert f"事项 {item_id} 已登记完成" in wait(driver, By.ID, "done-message").text
        assert "待审核" in driver.find_element(By.ID, f"closed-{item_id}").text

        driver.get(web + "/admin/login")
        wait(driver, By.ID, "username").send_keys("chenli")
        driver.find_element(By.ID, "password").send_keys(PASSWORD)
        driver.find_element(By.ID, "login").click()
        wait(driver, By.ID, "awaiting").find_element(By.LINK_TEXT, "审核").click()
        link = wait(driver, By.CSS_SELECTOR, "#submissions a.file")
        assert link.text == "备案清单.pdf"
        link.click()
        WebDriverWait(driver, 15).until(
            lambda _d: any(p.suffix == ".pdf" for p in downloads.iterdir())
        )
        [got] = [p for p in downloads.iterdir() if p.suffix == ".pdf"]
        assert got.read_bytes() == PDF

        reason = "备案清单缺少本月第二批公文，请补齐后重新上传"
        driver.find_element(By.CSS_SELECTOR, "#review textarea[name=reason]").send_keys(reason)
        _screenshot(driver, tmp_path, "admin-review.png")
        page = driver.find_element(By.TAG_NAME, "html")
        driver.find_element(By.CSS_SELECTOR, "#review input[value='退回']").click()
        WebDriverWait(driver, 15).until(page_left(page))
        assert "已退回" in wait(driver, By.ID, "done-message").text
        assert reason in driver.find_element(By.ID, "history").text
    finally:
        driver.quit()
    with session_scope() as s:
        unit = s.get(Unit, unit_id)
        [msg] = s.exec(select(OutboxMessage).where(OutboxMessage.kind == "returned")).all()
    # Sent right after the page answered (a background task of the real server).
    deadline = time.monotonic() + 15
    while (
        not any(m.rcpt_tos == [unit.email] for m in smtp.messages) and time.monotonic() < deadline
    ):  # type: ignore[union-attr]
        time.sleep(0.1)
    [mail] = [m for m in smtp.messages if m.rcpt_tos == [unit.email]]  # type: ignore[union-attr]
    assert reason in mail.text()
    assert _linked_unit(mail.text()) == unit_id
    with session_scope() as s:
        sent = s.get(OutboxMessage, msg.id)
        assert sent is not None and sent.status == "sent"
