"""Uploads over the limit sent chunked (no Content-Length) to a real uvicorn: a Chinese 413
page, nothing stored, nothing written; likewise a form with more parts than allowed (400),
never Starlette's English text or a 500."""

# ruff: noqa: F811  (the fixtures imported from test_admin_web are used by name)
from __future__ import annotations

import re
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.testclient import TestClient

from models import ChecklistItem
from tests.test_admin_imports import _uploads
from tests.test_admin_web import (  # noqa: F401  (fixtures)
    PASSWORD,
    _audit,
    accounts,
    client,
    items,
)
from tests.test_submissions import PDF, _filing, _stored, _subs, _token
from zwgk.db import session_scope

MB = 1024 * 1024


def _multipart(
    field: str, name: str, size: int, extra: dict[str, str]
) -> tuple[str, Iterator[bytes]]:
    """(content type, body chunks of 64 KB) of a form with one file of ``size`` bytes."""
    boundary = uuid.uuid4().hex
    head = (
        b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
            for k, v in extra.items()
        )
        + (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
            f'filename="{name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode()
    )
    tail = f"\r\n--{boundary}--\r\n".encode()

    def chunks() -> Iterator[bytes]:
        yield head + PDF
        left = size - len(PDF)
        while left > 0:
            n = min(64 * 1024, left)
            yield b"0" * n
            left -= n
        yield tail

    return f"multipart/form-data; boundary={boundary}", chunks()


def _post_chunked(
    base: str, path: str, ctype: str, body: Iterator[bytes], cookie: str = ""
) -> tuple[int, str]:
    """POST ``body`` with Transfer-Encoding: chunked over a plain socket; (status, page).
    The server may answer before the body ends: sending stops there and the answer is read."""
    url = urlsplit(base)
    sock = socket.create_connection((url.hostname, url.port), timeout=30)
    try:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Type: {ctype}\r\n"
            f"Transfer-Encoding: chunked\r\nConnection: close\r\n"
            + (f"Cookie: {cookie}\r\n" if cookie else "")
            + "\r\n"
        )
        sock.sendall(head.encode())
        try:
            for chunk in body:
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # answered early: read what it said
        data = b""
        try:
            while part := sock.recv(65536):
                data += part
        except ConnectionResetError:
            pass
    finally:
        sock.close()
    head_end = data.index(b"\r\n\r\n")
    status = int(data.split(b" ", 2)[1])
    return status, data[head_end + 4 :].decode("utf-8", "replace")


def test_a_chunked_attachment_over_20_mb_gets_413_on_the_unit_page(
    web: str, items: dict[str, list[int]], env: Path
) -> None:
    item_id, unit_id = _filing("测试区")
    ctype, body = _multipart("attachment", "大文件.pdf", 21 * MB + 512 * 1024, {"note": "见附件"})
    status, page = _post_chunked(web, f"/u/{_token(unit_id)}/items/{item_id}", ctype, body)
    assert status == 413, page
    assert "附件超过 20 MB，未保存" in page and "Traceback" not in page
    assert _subs(item_id) == [] and _stored(env) == []
    with session_scope() as s:
        assert s.get(ChecklistItem, item_id).status == "pending"  # type: ignore[union-attr]
    # Within the limit, sent the same way, it is taken.
    ctype, body = _multipart("attachment", "清单.pdf", 256 * 1024, {"note": "见附件"})
    status, page = _post_chunked(web, f"/u/{_token(unit_id)}/items/{item_id}", ctype, body)
    assert status == 303, page
    assert len(_subs(item_id)) == 1 and len(_stored(env)) == 1


def test_a_unit_form_with_two_files_or_a_huge_note_is_refused_in_chinese(
    client: TestClient, items: dict[str, list[int]], env: Path
) -> None:
    item_id, unit_id = _filing("测试区")
    url = f"/u/{_token(unit_id)}/items/{item_id}"
    files = [("attachment", ("a.pdf", PDF)), ("attachment", ("b.pdf", PDF))]
    r = client.post(url, data={"note": "x"}, files=files)
    assert r.status_code == 400 and "一次只能上传一个附件" in r.text
    r = client.post(url, content=b"note=" + b"x" * MB, headers={
        "content-type": "application/x-www-form-urlencoded"
    })  # fmt: skip
    assert r.status_code == 413 and "提交的内容过长" in r.text
    assert _subs(item_id) == [] and _stored(env) == []


def _login(base: str, name: str) -> tuple[str, str]:
    """(Cookie header, CSRF token) of a session on the real server."""
    with httpx.Client(base_url=base, follow_redirects=False) as c:
        page = c.get("/admin/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        r = c.post(
            "/admin/login", data={"username": name, "password": PASSWORD, "csrf_token": token}
        )
        assert r.status_code == 303, r.text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/admin/").text).group(1)  # type: ignore[union-attr]
        cookie = "; ".join(f"{k}={v}" for k, v in c.cookies.items())
    return cookie, csrf


@pytest.mark.parametrize("kind", ["units", "plan"])
def test_a_chunked_import_over_20_mb_gets_413(
    web: str, directory: str, accounts: None, env: Path, kind: str
) -> None:
    cookie, csrf = _login(web, "wangjing")
    ctype, body = _multipart(
        "file", "名录.csv", 21 * MB, {"csrf_token": csrf, "district": directory}
    )
    status, page = _post_chunked(web, f"/admin/import/{kind}", ctype, body, cookie)
    assert status == 413, page
    assert "上传的文件超过 20 MB 的上限，未作任何改动" in page and "Traceback" not in page
    assert not _audit(f"import-{kind}")
    assert not _uploads()
