"""Office accounts: Argon2id password hashes, a minimum strength, lockout after six failures.

Six failed logins in a row lock an account for 15 minutes; while it is locked even the right
password is refused (and does not count as a seventh failure, nor does it end the lock).
A good login resets the count. Every login, failure and lockout is written to the audit log
and to the ``zwgk.access`` logger.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlmodel import Session, col, select

from models.account import ROLE_LABELS, User, UserRole
from zwgk import clock
from zwgk.access.audit import record
from zwgk.errors import UserError

logger = logging.getLogger("zwgk.access")

MAX_FAILED_LOGINS = 6
LOCK_MINUTES = 15
MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# A hash to verify against when the account does not exist, so that a wrong name takes as
# long as a wrong password (no way to probe which names exist by timing).
_DUMMY_HASH = _hasher.hash("no such account, no such password")

_NAME = re.compile(r"^[\w.\-@\u4e00-\u9fff]{2,32}$")
_COMMON = {
    "password",
    "password1",
    "1234567890",
    "0123456789",
    "qwertyuiop",
    "1qaz2wsx3edc",
    "abc1234567",
    "a123456789",
    "iloveyou123",
    "admin12345",
    "zwgk123456",
}


def check_password_strength(password: str, *, name: str = "") -> None:
    """At least 10 characters, at least two kinds of letter/digit/other, not a well-known
    password, not the account name; a UserError in Chinese saying which rule failed."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"密码过短：至少 {MIN_PASSWORD_LENGTH} 个字符，收到 {len(password)} 个")
    if len(password) > 128:
        raise UserError("密码过长：最多 128 个字符")
    if password != password.strip():
        raise UserError("密码首尾不能有空格")
    kinds = sum(
        (
            any(c.isalpha() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )
    if kinds < 2:
        raise UserError("密码过于简单：须至少包含字母、数字、符号中的两类")
    if password.lower() in _COMMON or len(set(password)) < 4:
        raise UserError("密码过于常见或重复字符过多，请换一个")
    if name and name.lower() in password.lower():
        raise UserError("密码不能包含账号名")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _verify(hash_: str, password: str) -> bool:
    try:
        return _hasher.verify(hash_, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def get_user(*, session: Session, name: str) -> User | None:
    return session.exec(select(User).where(User.name == name)).first()


def _require(session: Session, name: str) -> User:
    user = get_user(session=session, name=name)
    if user is None:
        raise UserError(f"账号「{name}」不存在（zwgk users list 查看全部账号）")
    return user


def add_user(
    *,
    session: Session,
    name: str,
    role: str,
    password: str,
    district: str | None = None,
    actor: str,
) -> User:
    """A new account; a bad name, role or weak password is refused with nothing written."""
    name = name.strip()
    if not _NAME.match(name):
        raise UserError(f"账号名「{name}」无效：应为 2–32 个汉字、字母、数字或 . - _ @，不含空格")
    try:
        user_role = UserRole(role)
    except ValueError:
        raise UserError(f"角色「{role}」无效：应为 admin（管理员）或 viewer（只读）") from None
    if get_user(session=session, name=name) is not None:
        raise UserError(f"账号「{name}」已存在；修改密码请用 zwgk users passwd {name}")
    check_password_strength(password, name=name)
    district = (district or "").strip() or None
    user = User(name=name, role=user_role, district=district, password_hash=hash_password(password))
    session.add(user)
    scope = district or "全部区"
    record(
        session=session,
        user=actor,
        action="user-add",
        target=f"账号 {name}",
        district=district,
        detail=f"新增账号「{name}」（{ROLE_LABELS[user_role]}，{scope}）",
        after={"name": name, "role": str(user_role), "district": district, "active": True},
    )
    return user


def disable_user(*, session: Session, name: str, actor: str) -> User:
    """Disable an account: it can no longer log in and its open sessions end."""
    user = _require(session, name)
    if not user.active:
        return user
    user.active = False
    user.session_epoch += 1
    user.updated_at = clock.utcnow()
    session.add(user)
    record(
        session=session,
        user=actor,
        action="user-disable",
        target=f"账号 {name}",
        district=user.district,
        detail=f"停用账号「{name}」",
        before={"active": True},
        after={"active": False},
    )
    return user


def set_password(*, session: Session, name: str, password: str, actor: str) -> User:
    """A new password; it also lifts a lock and ends the account's open sessions."""
    user = _require(session, name)
    check_password_strength(password, name=name)
    user.password_hash = hash_password(password)
    user.session_epoch += 1
    user.failed_logins = 0
    user.locked_until = None
    user.updated_at = clock.utcnow()
    session.add(user)
    record(
        session=session,
        user=actor,
        action="user-passwd",
        target=f"账号 {name}",
        district=user.district,
        detail=f"重设账号「{name}」的密码（原有登录会话失效）",
    )
    return user


def list_users(*, session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(col(User.name))))


def locked_until(user: User, now: datetime | None = None) -> datetime | None:
    """When the account's lock ends, or None when it is not locked."""
    until = clock.as_utc(user.locked_until)
    if until is not None and until > (now or clock.utcnow()):
        return until
    return None


@dataclass
class LoginResult:
    user: User | None  # set when the login succeeded
    error: str | None = None  # Chinese, for the login page
    locked_until: datetime | None = None


def authenticate(
    *, session: Session, name: str, password: str, now: datetime | None = None, via: str = "web"
) -> LoginResult:
    """Check a login; counts failures and locks the account at the sixth. The caller commits
    (the failure count must be kept even though the login is refused)."""
    now = now or clock.utcnow()
    user = get_user(session=session, name=name.strip())
    wrong = "账号或密码错误"
    if user is None or not user.active:
        _verify(_DUMMY_HASH, password)
        record(
            session=session,
            user=name.strip()[:64] or "（空）",
            action="login-failed",
            target=f"账号 {name.strip()[:64]}",
            detail="登录失败：账号不存在或已停用" + (f"（{via}）" if via else ""),
        )
        return LoginResult(None, wrong)
    until = locked_until(user, now)
    if until is not None:
        record(
            session=session,
            user=user.name,
            action="login-refused",
            target=f"账号 {user.name}",
            district=user.district,
            detail="账号锁定期间尝试登录，已拒绝",
        )
        return LoginResult(None, _locked_message(until), until)
    if not _verify(user.password_hash, password):
        user.failed_logins += 1
        user.updated_at = now
        before = {"failed_logins": user.failed_logins - 1}
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + timedelta(minutes=LOCK_MINUTES)
            user.failed_logins = 0
            session.add(user)
            logger.warning(
                "account %s locked for %d minutes after %d failed logins",
                user.name,
                LOCK_MINUTES,
                MAX_FAILED_LOGINS,
            )
            record(
                session=session,
                user=user.name,
                action="lockout",
                target=f"账号 {user.name}",
                district=user.district,
                detail=f"连续 {MAX_FAILED_LOGINS} 次登录失败，账号锁定 {LOCK_MINUTES} 分钟",
                before=before,
                after={"locked_until": user.locked_until.isoformat()},
            )
            return LoginResult(None, _locked_message(user.locked_until), user.locked_until)
        session.add(user)
        record(
            session=session,
            user=user.name,
            action="login-failed",
            target=f"账号 {user.name}",
            district=user.district,
            detail=f"密码错误（连续第 {user.failed_logins} 次）",
            before=before,
            after={"failed_logins": user.failed_logins},
        )
        left = MAX_FAILED_LOGINS - user.failed_logins
        return LoginResult(None, f"{wrong}。再错 {left} 次，账号将被锁定 {LOCK_MINUTES} 分钟。")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    session.add(user)
    record(
        session=session,
        user=user.name,
        action="login",
        target=f"账号 {user.name}",
        district=user.district,
        detail="登录工作台",
    )
    return LoginResult(user)


def _locked_message(until: datetime) -> str:
    local = until.astimezone(clock.SHANGHAI)
    return (
        f"该账号因连续 {MAX_FAILED_LOGINS} 次密码错误已被锁定 {LOCK_MINUTES} 分钟，"
        f"请于 {local:%H:%M} 后再试；如需立即解锁，请联系系统管理员重设密码。"
    )
