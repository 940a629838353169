"""The workbench (/admin): every authorisation rule over HTTP (Starlette's TestClient on a
real SQLite file), the audit log, the dashboard against ``zwgk status --json``, and a real
headless Chromium logging in and getting locked out."""

from __future__ import annotations

import io
import json
import logging
import re
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from models import AuditEntry, ChecklistItem, Unit
from notifications.render import cn_day
from tests.cli import run_inprocess
from tests.factories import write_units_csv
from workflows.engine import build_checklist
from workflows.registry import REGISTRY
from zwgk import clock
from zwgk.access.accounts import add_user, disable_user, set_password
from zwgk.config import get_settings, reset_settings
from zwgk.db import session_scope

PASSWORD = "Gk-office-2026"
OTHER = "示例区"


@pytest.fixture
def items(directory: str, tmp_path: Path) -> dict[str, list[int]]:
    """测试区 and a second district, each with this year's decision catalogue (all overdue
    by now) and December's monthly filing (pending); ids of each district's items."""
    from zwgk.intake.directory import import_units

    rows = [
        ["区政府办公室", "", "office", "gkb@other.example.gov.cn", "周敏", ""],
        ["区财政局", "", "department", "czj@other.example.gov.cn", "吴刚", ""],
    ]
    path = write_units_csv(tmp_path / "other.csv", rows)
    with session_scope() as s:
        import_units(session=s, path=path, district=OTHER)
    for slug, period in (("decision-catalogue", "2026"), ("monthly-filing", "2026-12")):
        ob = REGISTRY[slug]
        for district in (directory, OTHER):
            with session_scope() as s:
                build_checklist(
                    session=s,
                    ob=ob,
                    period=ob.parse_period(period),
                    settings=get_settings(),
                    district=district,
                    today=clock.today_shanghai(),
                )
    out: dict[str, list[int]] = {directory: [], OTHER: []}
    with session_scope() as s:
        for item, unit in s.exec(
            select(ChecklistItem, Unit).where(ChecklistItem.unit_id == Unit.id)
        ):
            out[unit.district].append(item.id)  # type: ignore[arg-type]
    assert out[directory] and out[OTHER]
    return out


@pytest.fixture
def accounts(env: Path) -> None:
    with session_scope() as s:
        add_user(session=s, name="wangjing", role="admin", password=PASSWORD, actor="test")
        add_user(
            session=s,
            name="chenli",
            role="admin",
            district="测试区",
            password=PASSWORD,
            actor="test",
        )
        add_user(session=s, name="lingdao", role="viewer", password=PASSWORD, actor="test")


@pytest.fixture
def client(env: Path) -> Iterator[TestClient]:
    from zwgk.web.app import create_app

    with TestClient(create_app(), follow_redirects=False) as c:
        yield c


ISO_DAY = re.compile(r"\b20\d\d-\d\d-\d\d\b")


def _text(html: str) -> str:
    """The text a person reads on a page: no tags, no styles, no addresses."""
    html = re.sub(r"<(style|script)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def login(c: TestClient, name: str, password: str = PASSWORD) -> str:
    """Log in; returns the session's CSRF token (from the dashboard's logout form)."""
    r = c.post(
        "/admin/login",
        data={
            "username": name,
            "password": password,
            "csrf_token": _csrf(c.get("/admin/login").text),
        },
    )
    assert r.status_code == 303 and r.headers["location"] == "/admin/", r.text
    page = c.get("/admin/")
    assert page.status_code == 200
    return _csrf(page.text)


def _item(item_id: int) -> ChecklistItem:
    with session_scope() as s:
        item = s.get(ChecklistItem, item_id)
        assert item is not None
        return item


def _audit(action: str | None = None) -> list[AuditEntry]:
    with session_scope() as s:
        stmt = select(AuditEntry).order_by(AuditEntry.id)  # type: ignore[arg-type]
        if action:
            stmt = stmt.where(AuditEntry.action == action)
        return list(s.exec(stmt))


@pytest.fixture
def now() -> Iterator[clock.FrozenClock]:
    """The kernel's clock held still; sessions and locks are timed by it."""
    with clock.frozen() as frozen:
        yield frozen


# --------------------------------------------------------------------------- anonymous


@pytest.mark.parametrize("path", ["/admin/", "/admin/audit", "/admin/items/1", "/admin/nothing"])
def test_anonymous_pages_redirect_to_login(client: TestClient, path: str) -> None:
    r = client.get(path)
    if path == "/admin/nothing":
        assert r.status_code == 404
        return
    assert r.status_code == 303
    assert r.headers["location"].startswith("/admin/login")
    assert client.get("/admin").headers["location"] == "/admin/"


def test_anonymous_post_changes_nothing(
    client: TestClient, items: dict[str, list[int]], accounts: None
) -> None:
    item_id = items["测试区"][0]
    r = client.post(f"/admin/items/{item_id}/waive", data={"reason": "x", "csrf_token": "x"})
    assert r.status_code == 303 and r.headers["location"].startswith("/admin/login")
    assert _item(item_id).status == "pending"
    assert not _audit("waive")


def test_unit_pages_keep_working_without_a_session(client: TestClient) -> None:
    assert client.get("/").status_code == 200
    assert "zwgk_admin" not in client.get("/").headers.get("set-cookie", "")
    assert client.get("/u/1.2.abc").status_code == 403  # the signed link decides, as before


# --------------------------------------------------------------------------- login, cookie


def test_login_sets_a_strict_session_cookie(client: TestClient, accounts: None) -> None:
    page = client.get("/admin/login")
    assert page.status_code == 200 and 'name="username"' in page.text
    assert 'name="password"' in page.text and 'name="csrf_token"' in page.text
    r = client.post(
        "/admin/login",
        data={"username": "wangjing", "password": PASSWORD, "csrf_token": _csrf(page.text)},
    )
    assert r.status_code == 303
    cookie = r.headers["set-cookie"].lower()
    assert "zwgk_admin=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert "path=/admin" in cookie and "secure" not in cookie
    assert [e.user for e in _audit("login")] == ["wangjing"]


def test_cookie_is_secure_behind_https(
    env: Path, accounts: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from zwgk.web.app import create_app

    monkeypatch.setenv("ZWGK_WEB_BASE_URL", "https://zwgk.example.gov.cn")
    reset_settings()
    with TestClient(create_app(), base_url="https://testserver", follow_redirects=False) as c:
        assert "; secure" in c.get("/admin/login").headers["set-cookie"].lower()
        login(c, "wangjing")


def test_login_without_csrf_token_is_refused(client: TestClient, accounts: None) -> None:
    client.get("/admin/login")
    r = client.post("/admin/login", data={"username": "wangjing", "password": PASSWORD})
    assert r.status_code == 403 and "登录页面已过期" in r.text
    assert client.get("/admin/").status_code == 303  # not logged in
    assert not _audit("login")
    # Another client's token is no good either (it belongs to that client's session).
    with TestClient(client.app, follow_redirects=False) as other:
        token = _csrf(other.get("/admin/login").text)
    data = {"username": "wangjing", "password": PASSWORD, "csrf_token": token}
    assert client.post("/admin/login", data=data).status_code == 403


def test_wrong_password_and_unknown_account_say_the_same(
    client: TestClient, accounts: None
) -> None:
    token = _csrf(client.get("/admin/login").text)
    bad = client.post(
        "/admin/login", data={"username": "wangjing", "password": "nope", "csrf_token": token}
    )
    nobody = client.post(
        "/admin/login", data={"username": "nobody", "password": "nope", "csrf_token": token}
    )
    assert bad.status_code == nobody.status_code == 401
    assert "账号或密码错误" in bad.text and "账号或密码错误" in nobody.text
    assert "再错 5 次" in bad.text


def test_login_does_not_redirect_off_site(client: TestClient, accounts: None) -> None:
    token = _csrf(client.get("/admin/login?next=//evil.example.com/x").text)
    r = client.post(
        "/admin/login",
        data={
            "username": "wangjing",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "//evil.example.com/x",
        },
    )
    assert r.headers["location"] == "/admin/"


def test_login_returns_to_the_page_asked_for(
    client: TestClient, accounts: None, items: dict[str, list[int]]
) -> None:
    item_id = items["测试区"][0]
    first = client.get(f"/admin/items/{item_id}")
    assert first.headers["location"] == f"/admin/login?next=%2Fadmin%2Fitems%2F{item_id}"
    token = _csrf(client.get(first.headers["location"]).text)
    r = client.post(
        "/admin/login",
        data={
            "username": "wangjing",
            "password": PASSWORD,
            "csrf_token": token,
            "next": f"/admin/items/{item_id}",
        },
    )
    assert r.headers["location"] == f"/admin/items/{item_id}"


# --------------------------------------------------------------------------- lockout


def test_six_failures_lock_the_account_for_15_minutes(
    client: TestClient,
    accounts: None,
    now: clock.FrozenClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    token = _csrf(client.get("/admin/login").text)

    def attempt(password: str):  # type: ignore[no-untyped-def]
        data = {"username": "chenli", "password": password, "csrf_token": token}
        return client.post("/admin/login", data=data)

    for n in range(1, 6):
        r = attempt(f"wrong-{n}")
        assert r.status_code == 401 and f"再错 {6 - n} 次" in r.text
    with caplog.at_level(logging.WARNING, logger="zwgk.access"):
        r = attempt("wrong-6")
    assert r.status_code == 429 and "已被锁定 15 分钟" in r.text
    assert int(r.headers["Retry-After"]) == 15 * 60
    assert "account chenli locked for 15 minutes" in caplog.text
    # The right password is refused while the lock lasts, and does not lift it.
    now.advance(minutes=14)
    r = attempt(PASSWORD)
    assert r.status_code == 429 and "已被锁定" in r.text
    assert client.get("/admin/").status_code == 303
    (lock,) = _audit("lockout")
    assert lock.user == "chenli" and lock.district == "测试区"
    assert "连续 6 次登录失败" in lock.detail and lock.after and "locked_until" in lock.after
    assert len(_audit("login-refused")) == 1
    # After 15 minutes it opens again.
    now.advance(minutes=1, seconds=1)
    assert attempt(PASSWORD).status_code == 303
    assert client.get("/admin/").status_code == 200


def test_passwd_lifts_a_lock(client: TestClient, accounts: None) -> None:
    token = _csrf(client.get("/admin/login").text)
    for _ in range(6):
        client.post(
            "/admin/login", data={"username": "wangjing", "password": "x", "csrf_token": token}
        )
    with session_scope() as s:
        set_password(session=s, name="wangjing", password="New-office-2027", actor="test")
    login(client, "wangjing", "New-office-2027")


# --------------------------------------------------------------------------- sessions


def test_session_ends_after_inactivity(
    client: TestClient, accounts: None, now: clock.FrozenClock
) -> None:
    login(client, "wangjing")
    # Activity moves the deadline on: three requests 20 minutes apart stay logged in.
    for _ in range(3):
        now.advance(minutes=20)
        assert client.get("/admin/").status_code == 200
    now.advance(minutes=31)
    r = client.get("/admin/")
    assert r.status_code == 303 and r.headers["location"] == "/admin/login?expired=1"
    assert "登录已超时" in client.get(r.headers["location"]).text
    assert client.get("/admin/").status_code == 303  # the session is gone, not just refused


def test_a_post_after_the_session_expired_changes_nothing(
    client: TestClient, accounts: None, items: dict[str, list[int]], now: clock.FrozenClock
) -> None:
    token = login(client, "wangjing")
    item_id = items["测试区"][0]
    now.advance(minutes=31)
    r = client.post(
        f"/admin/items/{item_id}/waive", data={"reason": "本年度无决策事项", "csrf_token": token}
    )
    assert r.status_code == 303 and "expired=1" in r.headers["location"]
    assert _item(item_id).status == "pending"


def test_disable_and_passwd_end_open_sessions(client: TestClient, accounts: None) -> None:
    login(client, "wangjing")
    with session_scope() as s:
        set_password(session=s, name="wangjing", password="New-office-2027", actor="test")
    assert client.get("/admin/").status_code == 303
    login(client, "wangjing", "New-office-2027")
    with session_scope() as s:
        disable_user(session=s, name="wangjing", actor="test")
    assert client.get("/admin/").status_code == 303
    token = _csrf(client.get("/admin/login").text)
    r = client.post(
        "/admin/login",
        data={"username": "wangjing", "password": "New-office-2027", "csrf_token": token},
    )
    assert r.status_code == 401


def test_logout(client: TestClient, accounts: None) -> None:
    token = login(client, "wangjing")
    assert client.post("/admin/logout", data={}).status_code == 403  # CSRF here too
    r = client.post("/admin/logout", data={"csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == "/admin/login?out=1"
    assert client.get("/admin/").status_code == 303
    assert [e.user for e in _audit("logout")] == ["wangjing"]


# --------------------------------------------------------------------------- CSRF and roles


def test_post_without_valid_csrf_is_403_and_changes_nothing(
    client: TestClient, accounts: None, items: dict[str, list[int]]
) -> None:
    login(client, "wangjing")
    item_id = items["测试区"][0]
    for data in ({"reason": "无"}, {"reason": "无", "csrf_token": "forged"}):
        r = client.post(f"/admin/items/{item_id}/waive", data=data)
        assert r.status_code == 403 and "未作任何改动" in r.text
    assert _item(item_id).status == "pending"
    assert not _audit("waive")


def test_viewer_reads_everything_and_changes_nothing(
    client: TestClient, accounts: None, items: dict[str, list[int]]
) -> None:
    token = login(client, "lingdao")
    for district in ("测试区", OTHER):
        page = client.get(f"/admin/items/{items[district][0]}")
        assert page.status_code == 200 and "办理记录" in page.text
        assert "/waive" not in page.text  # no action forms for a viewer
    assert client.get("/admin/audit").status_code == 200
    item_id = items["测试区"][0]
    r = client.post(
        f"/admin/items/{item_id}/waive", data={"reason": "领导说免办", "csrf_token": token}
    )
    assert r.status_code == 403 and "只读账号" in r.text
    assert _item(item_id).status == "pending"
    assert not _audit("waive")


def test_admin_of_one_district_cannot_see_or_act_on_another(
    client: TestClient, accounts: None, items: dict[str, list[int]]
) -> None:
    token = login(client, "chenli")  # 测试区 only
    theirs = items[OTHER][0]
    assert client.get(f"/admin/items/{theirs}").status_code == 403
    r = client.post(f"/admin/items/{theirs}/waive", data={"reason": "越权", "csrf_token": token})
    assert r.status_code == 403 and _item(theirs).status == "pending"
    dashboard = client.get("/admin/").text
    assert "区财政局" not in dashboard and "区教育局" in dashboard
    assert client.get(f"/admin/items/{items['测试区'][0]}").status_code == 200


# Not a plain number: a superscript (isdigit() but not int()), an Arabic-Indic digit (int()
# takes it), past SQLite's 64 bits, past int()'s 4,300 digits.
ODD_IDS = ["²", "٣", "99999999999999999999999", "9" * 5000]


@pytest.mark.parametrize("odd", ODD_IDS, ids=["superscript", "arabic-indic", "huge", "5000-digits"])
def test_an_id_that_is_not_a_plain_number_is_the_404_page(
    client: TestClient, accounts: None, items: dict[str, list[int]], odd: str
) -> None:
    token = login(client, "wangjing")
    for path, says in (
        (f"/admin/items/{odd}", "事项不存在"),
        (f"/admin/units/{odd}", "单位不存在"),
        (f"/admin/files/{odd}", "附件不存在"),
    ):
        r = client.get(path)
        assert r.status_code == 404 and says in r.text, path
        assert "Traceback" not in r.text
    for act in ("waive", "reopen", "extend", "accept", "return"):
        r = client.post(
            f"/admin/items/{odd}/{act}",
            data={"reason": "无", "due": "2026-12-31", "csrf_token": token},
        )
        assert r.status_code == 404 and "事项不存在" in r.text, act
    assert not [e for e in _audit() if e.action not in ("login", "user-add")]
    # The audit log's paging: an odd ``before`` shows the first page.
    r = client.get(f"/admin/audit?before={odd}")
    assert r.status_code == 200 and "新增账号「wangjing」" in r.text


def test_admin_waives_and_reopens_with_audit(
    client: TestClient, accounts: None, items: dict[str, list[int]]
) -> None:
    token = login(client, "chenli")
    item_id = items["测试区"][0]
    r = client.post(f"/admin/items/{item_id}/waive", data={"reason": "", "csrf_token": token})
    assert r.status_code == 400 and "免办必须说明理由" in r.text
    assert _item(item_id).status == "pending"
    data = {"reason": "本单位本年度无重大行政决策事项", "csrf_token": token}
    r = client.post(f"/admin/items/{item_id}/waive", data=data)
    assert r.status_code == 303 and r.headers["location"] == f"/admin/items/{item_id}?done=waive"
    assert client.post(f"/admin/items/{item_id}/waive", data=data).status_code == 303  # twice
    assert _item(item_id).status == "waived"
    (entry,) = _audit("waive")
    assert entry.user == "chenli" and entry.district == "测试区"
    assert entry.before == {"status": "pending", "note": None}
    assert entry.after == {"status": "waived", "note": "本单位本年度无重大行政决策事项"}
    page = client.get(f"/admin/items/{item_id}").text
    assert "免办" in page and "本单位本年度无重大行政决策事项" in page
    r = client.post(
        f"/admin/items/{item_id}/reopen", data={"reason": "误操作", "csrf_token": token}
    )
    assert r.status_code == 303 and _item(item_id).status == "pending"
    audit = client.get("/admin/audit").text
    assert "重新打开" in audit and "误操作" in audit


def test_a_district_admin_sees_only_their_districts_audit(
    client: TestClient, accounts: None
) -> None:
    login(client, "chenli")
    page = client.get("/admin/audit").text
    assert "新增账号「chenli」" in page and "新增账号「wangjing」" not in page
    only_logins = client.get("/admin/audit?action=login").text
    assert 'data-action="login"' in only_logins and 'data-action="user-add"' not in only_logins


def test_a_units_completion_on_its_page_is_audited(
    client: TestClient, items: dict[str, list[int]]
) -> None:
    """The unit page needs no account (its signed link is the credential) and no CSRF
    token; what it records still reaches the audit log, under the unit's name."""
    from notifications.links import sign

    item = _item(items["测试区"][0])
    token = sign(item.unit_id, get_settings())
    url = "https://www.example.gov.cn/xxgk/ml2026"
    r = client.post(f"/u/{token}/items/{item.id}", data={"evidence": url, "note": "已发布"})
    assert r.status_code == 303
    (entry,) = _audit("complete")
    with session_scope() as s:
        unit = s.get(Unit, item.unit_id)
        assert unit
    assert entry.user == f"{unit.name} {unit.contact}" and entry.district == "测试区"
    assert entry.before == {
        "status": "pending",
        "evidence": None,
        "note": None,
        "completed_by": None,
    }
    assert entry.after and entry.after["status"] == "done" and entry.after["evidence"] == url


# --------------------------------------------------------------------------- dashboard


def _counts_of(status_json: str) -> dict[tuple[str, str], dict[str, int]]:
    """``zwgk status --json`` counted per obligation period, 待审核 apart from done."""
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for row in json.loads(status_json):
        c = counts.setdefault((row["obligation"], row["period"]), {})
        key = "awaiting" if row["awaiting_review"] else row["status"]
        c[key] = c.get(key, 0) + 1
    return counts


def _shown(html: str, obligation: str, period: str) -> tuple[dict[str, int], str]:
    """The dashboard row's counts and 完成率."""
    row = re.search(rf'<tr id="period-{obligation}-{period}".*?</tr>', html, re.S)
    assert row, (obligation, period)
    shown = {
        k: int(re.search(rf'class="num c-{k}[^"]*">(?:<a [^>]*>)?(\d+)<', row.group(0)).group(1))  # type: ignore[union-attr]
        for k in ("done", "awaiting", "pending", "overdue", "waived", "total")
    }
    rate = re.search(r'class="c-rate">([\d.]+)%', row.group(0)).group(1)  # type: ignore[union-attr]
    return shown, rate


def _assert_same(html: str, expected: dict[tuple[str, str], dict[str, int]]) -> None:
    for (obligation, period), counts in expected.items():
        shown, rate = _shown(html, obligation, period)
        for k in ("done", "awaiting", "pending", "overdue", "waived"):
            assert shown[k] == counts.get(k, 0), (obligation, k)
        assert shown["total"] == sum(counts.values())
        required = sum(counts.values()) - counts.get("waived", 0)
        assert rate == f"{100 * counts.get('done', 0) / required:.1f}"  # 待审核 not done


def test_dashboard_numbers_equal_status_json(
    client: TestClient,
    accounts: None,
    items: dict[str, list[int]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    from workflows.items import complete, waive
    from workflows.submissions import submit

    with session_scope() as s:
        first, second = items["测试区"][:2]
        complete(session=s, item_id=first, evidence="https://www.example.gov.cn/a", by="t")
        waive(session=s, item_id=second, reason="无", by="t")
        # Two December filings handed in by their units: they wait for review (待审核).
        filings = [
            i
            for i in s.exec(select(ChecklistItem).where(ChecklistItem.period == "2026-12"))
            if i.id in items["测试区"]
        ][:2]
        for item in filings:
            submit(
                session=s,
                item_id=item.id,  # type: ignore[arg-type]
                unit_id=item.unit_id,
                evidence=f"https://www.example.gov.cn/f{item.id}",
                by="联络员",
            )
    login(client, "wangjing")
    html = client.get("/admin/").text
    r = run_inprocess(capsys, "status", "--json")
    assert r.code == 0, r.err
    expected = _counts_of(r.out)
    assert len(expected) == 2
    assert expected[("monthly-filing", "2026-12")]["awaiting"] == 2
    _assert_same(html, expected)
    # One district picked on the dashboard: the numbers of zwgk status --district.
    for district in ("测试区", OTHER):
        page = client.get("/admin/", params={"district": district})
        assert page.status_code == 200
        r = run_inprocess(capsys, "status", "--district", district, "--json")
        assert r.code == 0, r.err
        _assert_same(page.text, _counts_of(r.out))
        assert f'<option value="{district}" selected>' in page.text
    assert client.get("/admin/", params={"district": "火星区"}).status_code == 404
    text = run_inprocess(capsys, "status", "--obligation", "monthly-filing", "--period", "2026-12")
    assert "已完成（待审核）" in text.out and "待审核 2" in text.out
    # Overdue periods and units come first.
    assert html.index("period-decision-catalogue-2026") < html.index("period-monthly-filing")
    section = html[html.index('id="units-decision-catalogue-2026"') :]
    lines = re.findall(
        r'<tr class="unit-line"><td><a href="[^"]+">([^<]+)</a>(?:<span[^>]*>[^<]*</span>)?</td>'
        r'\s*<td class="num( overdue)?">(\d+)',
        section,
    )
    overdue = [int(n) for _, _, n in lines]
    assert overdue and overdue == sorted(overdue, reverse=True)
    assert '区财政局</a><span class="muted">（示例区）</span>' in html  # two districts: named


def test_unit_page_lists_what_the_unit_owes(
    client: TestClient, accounts: None, items: dict[str, list[int]]
) -> None:
    from workflows.items import waive

    with session_scope() as s:
        item = s.get(ChecklistItem, items["测试区"][0])
        unit = s.get(Unit, item.unit_id)  # type: ignore[union-attr]
        assert item and unit
        mine = [i.id for i in s.exec(select(ChecklistItem).where(ChecklistItem.unit_id == unit.id))]
        waive(session=s, item_id=item.id, reason="本年度无决策事项", by="王静")  # type: ignore[arg-type]
        theirs = s.exec(select(Unit).where(Unit.district == OTHER)).first()
        assert theirs
    login(client, "chenli")
    page = client.get(f"/admin/units/{unit.id}").text
    assert unit.name in page and "本年度无决策事项" in page  # in the recent history
    page = page[page.index('id="unit-items"') : page.index("最近办理记录")]
    assert sorted(int(n) for n in re.findall(r'<td><a href="/admin/items/(\d+)">', page)) == sorted(
        mine
    )
    # Open items first: the waived one is the last row.
    assert re.findall(r'<td><a href="/admin/items/(\d+)">', page)[-1] == str(item.id)
    assert client.get(f"/admin/units/{theirs.id}").status_code == 403
    assert client.get("/admin/units/999999").status_code == 404
    # Dates and times in Chinese, as on the outbox and runs pages: no 2026-11-30, anywhere.
    assert f"<td>{cn_day(item.due)}</td>" in page
    whole = client.get(f"/admin/units/{unit.id}").text
    assert re.search(r"\d+年\d+月\d+日 \d\d:\d\d</td>", whole)  # the history's times
    for shown in (_text(whole), _text(client.get("/admin/").text)):
        assert not ISO_DAY.search(shown), ISO_DAY.search(shown)


def test_item_page_shows_history_and_evidence(
    client: TestClient, accounts: None, items: dict[str, list[int]]
) -> None:
    from models import ReminderLog
    from workflows.items import complete, extend_due

    item_id = items["测试区"][0]
    first_due = _item(item_id).due
    with session_scope() as s:
        for rung, on in (("before-5", date(2026, 11, 20)), ("weekly-2", date(2026, 12, 14))):
            s.add(ReminderLog(item_id=item_id, rung=rung, on=on))
        extend_due(
            session=s, item_id=item_id, new_due=date(2027, 1, 15), reason="待上级文件", by="t"
        )
    with session_scope() as s:
        complete(
            session=s, item_id=item_id, evidence="https://www.example.gov.cn/ml", by="区教育局 陈丽"
        )
    login(client, "lingdao")
    page = client.get(f"/admin/items/{item_id}").text
    assert 'href="https://www.example.gov.cn/ml"' in page
    assert "登记完成" in page and "区教育局 陈丽" in page and "生成事项" in page
    # The history in the office's words: dates and times in Chinese, rungs by their titles.
    shown = _text(page)
    assert "截止日期2027年1月15日" in shown  # 生成事项: the due date as it stands
    assert f"截止日期由{cn_day(first_due)}延至2027年1月15日：待上级文件" in shown
    assert "截止前5个工作日提醒（2026年11月20日）" in shown
    assert "逾期第2周催办（2026年12月14日）" in shown
    assert re.search(r"\d+年\d+月\d+日 \d\d:\d\d", shown)
    assert not ISO_DAY.search(shown), ISO_DAY.search(shown)
    assert client.get("/admin/items/999999").status_code == 404
    assert client.get("/admin/items/abc").status_code == 404


# --------------------------------------------------------------------------- CLI


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))


def test_users_cli(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _stdin(monkeypatch, "short\n")
    r = run_inprocess(capsys, "users", "add", "wangjing", "--role", "admin", "--password-stdin")
    assert r.code == 2 and "密码过短" in r.err and "Traceback" not in r.err
    _stdin(monkeypatch, "abcdefghijk\n")
    r = run_inprocess(capsys, "users", "add", "wangjing", "--role", "admin", "--password-stdin")
    assert r.code == 2 and "两类" in r.err
    _stdin(monkeypatch, PASSWORD + "\n")
    r = run_inprocess(capsys, "users", "add", "wangjing", "--role", "root", "--password-stdin")
    assert r.code == 2 and "角色「root」无效" in r.err
    with session_scope() as s:
        assert not _audit() and s.exec(select(AuditEntry)).first() is None
    _stdin(monkeypatch, PASSWORD + "\n")
    r = run_inprocess(
        capsys,
        "users",
        "add",
        "chenli",
        "--role",
        "viewer",
        "--district",
        "测试区",
        "--password-stdin",
    )
    assert r.code == 0 and "已新增账号「chenli」（只读，测试区）" in r.out
    _stdin(monkeypatch, PASSWORD + "\n")
    r = run_inprocess(capsys, "users", "add", "chenli", "--role", "viewer", "--password-stdin")
    assert r.code == 2 and "已存在" in r.err
    r = run_inprocess(capsys, "users", "list", "--json")
    (row,) = json.loads(r.out)
    assert row["name"] == "chenli" and row["role"] == "viewer" and row["active"] is True
    assert "chenli" in run_inprocess(capsys, "users", "list").out
    _stdin(monkeypatch, "Other-pass-2027\n")
    assert run_inprocess(capsys, "users", "passwd", "chenli", "--password-stdin").code == 0
    assert run_inprocess(capsys, "users", "disable", "chenli").code == 0
    r = run_inprocess(capsys, "users", "disable", "nobody")
    assert r.code == 2 and "账号「nobody」不存在" in r.err
    _stdin(monkeypatch, "")  # not asked for: the missing account is named first
    r = run_inprocess(capsys, "users", "passwd", "nobody", "--password-stdin")
    assert r.code == 2 and "账号「nobody」不存在" in r.err
    r = run_inprocess(capsys, "audit", "list", "--json")
    entries = json.loads(r.out)
    assert [e["action"] for e in entries] == ["user-disable", "user-passwd", "user-add"]
    for e in entries:
        assert {"at", "user", "action", "detail"} <= set(e) and e["user"].startswith("cli")
    assert "停用账号" in run_inprocess(capsys, "audit", "list").out


def test_cli_item_changes_reach_the_audit_log(
    items: dict[str, list[int]], capsys: pytest.CaptureFixture[str]
) -> None:
    item_id = items["测试区"][0]
    r = run_inprocess(capsys, "waive", str(item_id), "--reason", "本年度无", "--by", "王静")
    assert r.code == 0, r.err
    r = run_inprocess(
        capsys, "complete", str(items["测试区"][1]), "--evidence", "https://www.example.gov.cn/x"
    )
    assert r.code == 0, r.err
    entries = json.loads(run_inprocess(capsys, "audit", "list", "--json").out)
    (waive,) = [e for e in entries if e["action"] == "waive"]
    assert waive["user"] == "王静" and waive["district"] == "测试区"
    assert waive["before"]["status"] == "pending" and waive["after"]["status"] == "waived"
    (done,) = [e for e in entries if e["action"] == "complete"]
    assert done["after"]["evidence"] == "https://www.example.gov.cn/x"


# --------------------------------------------------------------------------- Chromium


def _screenshot(driver, tmp_path: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    """Into the test's folder, and into $SCREENSHOT_DIR when set (the README's
    pictures: SCREENSHOT_DIR=docs pytest -m browser tests/test_admin_web.py)."""
    import os

    driver.save_screenshot(str(tmp_path / name))
    if folder := os.environ.get("SCREENSHOT_DIR"):
        Path(folder).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(folder) / name))


def _office_year(district: str) -> None:
    """A district's autumn: this year's decision catalogue, November's filing (past due) and
    December's, about two thirds of November done; three of December's filings handed in
    and waiting for review (待审核)."""
    from workflows.items import complete, waive
    from workflows.submissions import submit

    for slug, period in (
        ("decision-catalogue", "2026"),
        ("monthly-filing", "2026-11"),
        ("monthly-filing", "2026-12"),
    ):
        ob = REGISTRY[slug]
        with session_scope() as s:
            build_checklist(
                session=s,
                ob=ob,
                period=ob.parse_period(period),
                settings=get_settings(),
                district=district,
                today=clock.today_shanghai(),
            )
    with session_scope() as s:
        rows = list(s.exec(select(ChecklistItem).order_by(ChecklistItem.id)))  # type: ignore[arg-type]
        for n, item in enumerate(rows):
            if item.period == "2026-12":
                if n % 9 == 0:
                    url = f"https://www.shcn.gov.cn/xxgk/ba2612/{item.id}"
                    submit(
                        session=s, item_id=item.id, unit_id=item.unit_id, evidence=url, by="联络员"
                    )  # type: ignore[arg-type]
                continue
            if n % 3:
                url = f"https://www.shcn.gov.cn/xxgk/{item.id}"
                complete(session=s, item_id=item.id, evidence=url, by="联络员")  # type: ignore[arg-type]
            elif n % 7 == 0:
                waive(session=s, item_id=item.id, reason="本期无此项工作", by="政务公开办")  # type: ignore[arg-type]


@pytest.mark.browser
def test_login_dashboard_and_lockout_in_chromium(
    web: str, sample_directory: str, accounts: None, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    from tests.test_web import _chromium_driver, wait

    _office_year(sample_directory)
    driver = _chromium_driver()  # JavaScript off: the pages must work without it
    try:
        driver.set_page_load_timeout(30)
        driver.set_window_size(1366, 768)

        def log_in(name: str, password: str) -> None:
            """Submit the login form and wait for the next page (not the one still shown)."""
            from selenium.webdriver.support.ui import WebDriverWait

            from tests.browser import page_left

            wait(driver, By.ID, "username").clear()
            driver.find_element(By.ID, "username").send_keys(name)
            driver.find_element(By.ID, "password").send_keys(password)
            page = driver.find_element(By.TAG_NAME, "html")
            driver.find_element(By.ID, "login").click()
            WebDriverWait(driver, 15).until(page_left(page))

        driver.get(web + "/admin/")
        assert wait(driver, By.ID, "username") and "/admin/login" in driver.current_url
        _screenshot(driver, tmp_path, "admin-login.png")
        log_in("wangjing", PASSWORD)
        table = wait(driver, By.ID, "periods")
        assert driver.current_url == web + "/admin/"
        first = table.find_elements(By.CSS_SELECTOR, "tr[data-obligation]")[0]
        assert first.get_attribute("data-obligation") == "decision-catalogue"  # overdue first
        assert "wangjing（管理员）" in driver.find_element(By.ID, "who").text
        _screenshot(driver, tmp_path, "admin-dashboard.png")
        # The item page from the list of units behind.
        driver.find_element(By.CSS_SELECTOR, "table.units a[href^='/admin/units/']").click()
        assert "全部事项" in wait(driver, By.ID, "unit-items").find_element(By.XPATH, "..").text
        driver.back()
        driver.find_element(By.CSS_SELECTOR, "table.units a[href^='/admin/items/']").click()
        assert "办理记录" in wait(driver, By.ID, "history").find_element(By.XPATH, "..").text
        _screenshot(driver, tmp_path, "admin-item.png")
        driver.find_element(By.CSS_SELECTOR, "#who input[type=submit]").click()
        assert "您已安全退出" in wait(driver, By.ID, "notice").text

        # Six wrong passwords lock the account; then the right one is refused too.
        for n in range(1, 7):
            log_in("chenli", f"wrong-{n}")
            message = wait(driver, By.ID, "login-error").text
            assert ("再错" in message) if n < 6 else ("已被锁定 15 分钟" in message), message
        log_in("chenli", PASSWORD)
        assert "已被锁定" in wait(driver, By.ID, "login-error").text
        assert "/admin/login" in driver.current_url
        _screenshot(driver, tmp_path, "admin-locked.png")
    finally:
        driver.quit()
    assert [e.user for e in _audit("lockout")] == ["chenli"]


def test_cli_imports_reach_the_audit_log(
    items: dict[str, list[int]], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """An import from the CLI is logged as the workbench logs it: who (cli:<user>), the file,
    the counts; a refused import logs nothing."""
    good = tmp_path / "名录.csv"
    good.write_text(
        "name,aliases,kind,email,contact,groups\n新设局,,department,xinshe@example.gov.cn,张三,\n",
        encoding="utf-8",
    )
    r = run_inprocess(capsys, "units", "import", str(good), "--district", "测试区")
    assert r.code == 0, r.err
    bad = tmp_path / "坏名录.csv"
    bad.write_text(
        "name,aliases,kind,email,contact,groups\n新设局,,department,不是邮箱,张三,\n",
        encoding="utf-8",
    )
    assert run_inprocess(capsys, "units", "import", str(bad), "--district", "测试区").code != 0
    entries = json.loads(run_inprocess(capsys, "audit", "list", "--json").out)
    (entry,) = [e for e in entries if e["action"] == "import-units"]
    assert entry["user"].startswith("cli") and entry["district"] == "测试区"
    assert "名录.csv" in entry["detail"] and "新增 1 个单位" in entry["detail"]
    assert "导入单位名录" in run_inprocess(capsys, "audit", "list").out
