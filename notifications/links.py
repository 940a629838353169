"""Signed, expiring links: one per unit, opening only that unit's items.

A token is itsdangerous's URL-safe signed serialisation of ``[unit id, expiry (unix
seconds)]`` (HMAC-SHA256, salt ``zwgk.unit-link``): ``<base64 payload>.<signature>``. The
expiry is fixed when the link is issued (``ZWGK_LINK_VALID_DAYS`` then), so changing the
setting later does not shorten or stretch links already mailed.

Links mailed before this form (``<unit id>.<expiry>.<HMAC-SHA256 over both>``, signed by
hand) are still accepted until they expire by themselves, at most ``link_valid_days``
after the upgrade; new links are always the new form. ``_verify_legacy`` can go once no
such link can still be valid.

The key comes from ``ZWGK_WEB_SECRET``, or is generated once into ``var/web_secret`` (mode
600, created atomically: a concurrent process reads the whole key or none); it is never a
default string.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from itsdangerous import BadData, BadSignature, URLSafeSerializer

from zwgk.clock import utcnow
from zwgk.config import Settings

SALT = "zwgk.unit-link"
_LEGACY = re.compile(r"(\d+)\.(\d+)\.([A-Za-z0-9_-]+)")


class TokenError(Exception):
    """The link was tampered with, is malformed, or has expired (``expired``)."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


@dataclass(frozen=True)
class LinkClaims:
    unit_id: int
    expires: int


def secret_key(settings: Settings) -> bytes:
    if settings.web_secret is not None:
        value = settings.web_secret.get_secret_value()
        if len(value) < 16:
            raise ValueError("ZWGK_WEB_SECRET must be at least 16 characters")
        return value.encode()
    path: Path = settings.var_dir / "web_secret"
    if not path.exists():
        _create_secret(path)
    return path.read_text().strip().encode()


def _create_secret(path: Path) -> None:
    """Write a new key to a private temporary file beside ``path``, then link it into place:
    ``os.link`` never replaces an existing file, so the first process wins and every other
    one (which loses the race) reads the winner's complete key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".web_secret.", dir=path.parent)  # mode 600
    try:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(32))
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
    finally:
        os.unlink(tmp)


def _serializer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(
        secret_key(settings), salt=SALT, signer_kwargs={"digest_method": hashlib.sha256}
    )


def _now(now: float | None) -> float:
    return now if now is not None else utcnow().timestamp()


def sign(unit_id: int, settings: Settings, *, now: float | None = None) -> str:
    expires = int(_now(now) + settings.link_valid_days * 86400)
    return _serializer(settings).dumps([unit_id, expires])


def verify(token: str, settings: Settings, *, now: float | None = None) -> LinkClaims:
    legacy = _LEGACY.fullmatch(token)
    claims = _verify_legacy(legacy, settings) if legacy else _verify(token, settings)
    if _now(now) > claims.expires:
        raise TokenError("链接已过期", expired=True)
    return claims


def _verify(token: str, settings: Settings) -> LinkClaims:
    if "." not in token:
        raise TokenError("链接格式不正确")
    try:
        payload = _serializer(settings).loads(token)
    except BadSignature as exc:
        raise TokenError("链接无效（可能被修改过）") from exc
    except BadData as exc:  # signed by us, yet not a payload we write: not expected
        raise TokenError("链接格式不正确") from exc
    match payload:
        case [int() as unit_id, int() as expires]:
            return LinkClaims(unit_id, expires)
    raise TokenError("链接格式不正确")


def _verify_legacy(match: re.Match[str], settings: Settings) -> LinkClaims:
    """A link in the hand-signed form mailed before itsdangerous (see the module docstring)."""
    unit_s, expires_s, mac_s = match.groups()
    try:
        given = base64.urlsafe_b64decode(mac_s + "=" * (-len(mac_s) % 4))
    except ValueError as exc:
        raise TokenError("链接格式不正确") from exc
    expected = hmac.new(
        secret_key(settings), f"{unit_s}.{expires_s}".encode(), hashlib.sha256
    ).digest()
    if not hmac.compare_digest(given, expected):
        raise TokenError("链接无效（可能被修改过）")
    return LinkClaims(int(unit_s), int(expires_s))


def unit_link(unit_id: int, settings: Settings) -> str:
    return f"{settings.web_base_url.rstrip('/')}/u/{sign(unit_id, settings)}"
