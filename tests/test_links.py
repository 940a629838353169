"""Signed unit links (notifications.links): the itsdangerous form, the hand-signed form mailed
before it, and the web secret created once and atomically."""

from __future__ import annotations

import base64
import json
import multiprocessing
import os
import threading
from pathlib import Path

import pytest

from notifications.links import TokenError, secret_key, sign, verify
from zwgk.config import Settings, get_settings, reset_settings

SECRET = "zwgk-test-secret-0123456789"
ISSUED = 1_764_460_800  # 2025-11-30 00:00 UTC
DAY = 86400

# Links as the hand-written HMAC signer (before itsdangerous) wrote them with SECRET on ISSUED,
# valid 60 days: units 7 and 12.
LEGACY_7 = "7.1769644800.iwdH7b30tH3N0xVzDqShDk_SODr8xbmd9PEd4CMeSRg"
LEGACY_12 = "12.1769644800.fGA9HSXc4250_6A7TCXQVjkKLP9-WEo3OzLM2bglfmM"


@pytest.fixture
def keyed(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZWGK_WEB_SECRET", SECRET)
    reset_settings()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_round_trip_and_expiry_fixed_at_issue(keyed: None, monkeypatch: pytest.MonkeyPatch) -> None:
    token = sign(7, get_settings(), now=ISSUED)
    assert token.count(".") == 1 and token.isascii()
    claims = verify(token, get_settings(), now=ISSUED + 1)
    assert (claims.unit_id, claims.expires) == (7, ISSUED + 60 * DAY)
    # A shorter validity set later does not cut short a link already mailed.
    monkeypatch.setenv("ZWGK_LINK_VALID_DAYS", "1")
    reset_settings()
    assert verify(token, get_settings(), now=ISSUED + 59 * DAY).unit_id == 7
    with pytest.raises(TokenError) as exc:
        verify(token, get_settings(), now=ISSUED + 60 * DAY + 1)
    assert exc.value.expired and str(exc.value) == "链接已过期"


def test_a_changed_payload_is_refused(keyed: None) -> None:
    token = sign(7, get_settings(), now=ISSUED)
    _, signature = token.split(".")
    for claims in ([8, ISSUED + 60 * DAY], [7, ISSUED + 600 * DAY]):
        forged = _b64(json.dumps(claims, separators=(",", ":")).encode()) + "." + signature
        with pytest.raises(TokenError, match="链接无效") as exc:
            verify(forged, get_settings(), now=ISSUED + 1)
        assert not exc.value.expired
    with pytest.raises(TokenError, match="链接无效"):
        verify(token[:-2] + ("xx" if not token.endswith("xx") else "yy"), get_settings())


def test_another_secret_does_not_open_the_link(
    keyed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = sign(7, get_settings(), now=ISSUED)
    monkeypatch.setenv("ZWGK_WEB_SECRET", "another-secret-0123456789")
    reset_settings()
    with pytest.raises(TokenError, match="链接无效"):
        verify(token, get_settings(), now=ISSUED + 1)
    with pytest.raises(TokenError, match="链接无效"):
        verify(LEGACY_7, get_settings(), now=ISSUED + 1)


@pytest.mark.parametrize("token", ["", "7", "abc", "7.x.y.z", "7.123"])
def test_malformed_tokens_are_refused(keyed: None, token: str) -> None:
    with pytest.raises(TokenError) as exc:
        verify(token, get_settings(), now=ISSUED)
    assert not exc.value.expired


def test_links_mailed_before_itsdangerous_still_open(keyed: None) -> None:
    assert verify(LEGACY_7, get_settings(), now=ISSUED + DAY).unit_id == 7
    assert verify(LEGACY_12, get_settings(), now=ISSUED + DAY).unit_id == 12
    unit, expires, mac = LEGACY_7.split(".")
    for forged in (
        f"8.{expires}.{mac}",
        f"{unit}.{int(expires) + DAY}.{mac}",
        f"7.{expires}.{mac[:-2]}xx",
    ):
        with pytest.raises(TokenError, match="链接无效"):
            verify(forged, get_settings(), now=ISSUED + DAY)
    with pytest.raises(TokenError) as exc:
        verify(LEGACY_7, get_settings(), now=int(expires) + 1)
    assert exc.value.expired
    # New links are never issued in the old form.
    assert sign(7, get_settings(), now=ISSUED).count(".") == 1


# --------------------------------------------------------------------------- the web secret


def test_generated_secret_is_private_and_stable(env: Path) -> None:
    token = sign(3, get_settings())
    path = env / "web_secret"
    assert path.stat().st_mode & 0o777 == 0o600
    assert len(path.read_text().strip()) >= 32
    assert verify(token, get_settings()).unit_id == 3
    assert [p.name for p in env.iterdir() if p.name.startswith(".web_secret")] == []


def _ask(settings: Settings, start: threading.Barrier, keys: list[bytes]) -> None:
    start.wait()
    keys.append(secret_key(settings))


def test_threads_racing_to_create_the_secret_all_read_the_same_key(env: Path) -> None:
    """Many threads ask for the key at once, over and over, in fresh directories: each gets
    the whole key that ended up on disk, never an empty or partial one."""
    settings = get_settings()
    for round_ in range(30):
        var = env / f"race-{round_}"
        s = settings.model_copy(update={"var_dir": var})
        start = threading.Barrier(8)
        keys: list[bytes] = []

        threads = [threading.Thread(target=_ask, args=(s, start, keys)) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        on_disk = (var / "web_secret").read_bytes().strip()
        assert len(on_disk) >= 32 and keys == [on_disk] * 8, round_
        assert sorted(os.listdir(var)) == ["web_secret"]


def _ask_for_key(var: str, start, out) -> None:  # type: ignore[no-untyped-def]
    os.environ.pop("ZWGK_WEB_SECRET", None)
    os.environ["ZWGK_VAR_DIR"] = var
    reset_settings()
    start.wait()
    out.put(secret_key(get_settings()))


def test_processes_racing_to_create_the_secret_all_read_the_same_key(env: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    for round_ in range(5):
        var = env / f"procs-{round_}"
        start, out = ctx.Barrier(4), ctx.Queue()
        procs = [ctx.Process(target=_ask_for_key, args=(str(var), start, out)) for _ in range(4)]
        for p in procs:
            p.start()
        keys = [out.get(timeout=60) for _ in procs]
        for p in procs:
            p.join(timeout=60)
            assert p.exitcode == 0
        on_disk = (var / "web_secret").read_bytes().strip()
        assert len(on_disk) >= 32 and keys == [on_disk] * 4, round_
