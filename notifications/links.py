"""Signed, expiring links: one per unit, opening only that unit's items.

A token is ``<unit id>.<expiry (unix seconds)>.<HMAC-SHA256 over both>`` in URL-safe
base64. The key comes from ``ZWGK_WEB_SECRET``, or is generated once into
``var/web_secret`` (mode 600); it is never a default string.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from zwgk.config import Settings


class TokenError(Exception):
    """The link was tampered with, is malformed, or has expired (``expired``)."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


def secret_key(settings: Settings) -> bytes:
    if settings.web_secret is not None:
        value = settings.web_secret.get_secret_value()
        if len(value) < 16:
            raise ValueError("ZWGK_WEB_SECRET must be at least 16 characters")
        return value.encode()
    path: Path = settings.var_dir / "web_secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(32))
    return path.read_text().strip().encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(unit_id: int, settings: Settings, *, now: float | None = None) -> str:
    expires = int((now if now is not None else time.time()) + settings.link_valid_days * 86400)
    payload = f"{unit_id}.{expires}"
    mac = hmac.new(secret_key(settings), payload.encode(), hashlib.sha256).digest()
    return f"{payload}.{_b64(mac)}"


@dataclass(frozen=True)
class LinkClaims:
    unit_id: int
    expires: int


def verify(token: str, settings: Settings, *, now: float | None = None) -> LinkClaims:
    try:
        unit_s, expires_s, mac_s = token.split(".")
        unit_id, expires = int(unit_s), int(expires_s)
        given = _unb64(mac_s)
    except (ValueError, TypeError) as exc:
        raise TokenError("链接格式不正确") from exc
    expected = hmac.new(
        secret_key(settings), f"{unit_s}.{expires_s}".encode(), hashlib.sha256
    ).digest()
    if not hmac.compare_digest(given, expected):
        raise TokenError("链接无效（可能被修改过）")
    if (now if now is not None else time.time()) > expires:
        raise TokenError("链接已过期", expired=True)
    return LinkClaims(unit_id, expires)


def unit_link(unit_id: int, settings: Settings) -> str:
    return f"{settings.web_base_url.rstrip('/')}/u/{sign(unit_id, settings)}"
