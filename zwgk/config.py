"""Settings from the environment (prefix ``ZWGK_``), read lazily via :func:`get_settings`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from difflib import get_close_matches
from email.utils import getaddresses
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from zwgk.errors import UserError

SHANGHAI = "Asia/Shanghai"


def default_var_dir() -> Path:
    """Where run-time state lives by default: ``var/`` under the current directory."""
    return Path.cwd() / "var"


class Settings(BaseSettings):
    """All configuration. Nothing here is built at import time (``prefect deploy`` imports us)."""

    model_config = SettingsConfigDict(env_prefix="ZWGK_", extra="ignore")

    var_dir: Path = Field(default_factory=default_var_dir)
    database_url: str | None = None  # default: sqlite:///<var_dir>/zwgk.db

    smtp_host: str | None = None  # unset: the local capture server on 127.0.0.1
    smtp_port: int | None = None
    smtp_security: Literal["none", "starttls", "ssl"] = "none"
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    # Name of a Prefect Secret block holding the SMTP password, used when
    # ZWGK_SMTP_PASSWORD is unset.
    smtp_password_block: str | None = None
    smtp_timeout: float = 30.0
    smtp_ca_file: Path | None = None  # extra CA bundle to trust (self-hosted mail servers)
    mail_from: str = "政务公开办 <zwgk@localhost>"
    mail_capture_port: int = 8025
    max_send_attempts: int = 5
    # After a temporary failure a message waits send_backoff_seconds × 2^(attempts-1)
    # (at most 6 hours) before the next automatic attempt; `zwgk outbox retry` skips the wait.
    send_backoff_seconds: float = 300.0
    # A dispatcher claims messages in batches of outbox_batch and holds each claim for
    # outbox_lease_seconds, renewed before every message and every lease/4 while it sends.
    # A claim held by a process on this machine that is gone is taken over at once; one from
    # another machine once its lease has run out (the holder stopped renewing it).
    outbox_lease_seconds: float = 60.0
    outbox_batch: int = 10  # messages claimed per round trip

    # Seconds to wait for the temporary Prefect server a command starts when no server runs
    # (the first start on a cold Prefect home migrates its database).
    prefect_startup_timeout: float = 180.0

    default_district: str | None = None
    # The 落款 (sign-off) of every mail: the office's name, a contact person and a phone.
    office_name: str = "区政府办公室（政务公开办）"
    office_contact: str = ""
    office_phone: str = ""
    # The office's full name as the annual report's title and preamble print it
    # ("上海市长宁区人民政府办公室"); the district's full name is this without "人民政府办公室".
    office_full_name: str = ""
    # Where several districts share one installation, each district's own, as a JSON object:
    # ZWGK_OFFICES='{"宝山区": {"name": "区政府办公室", "contact": "李明", "phone": "021-…"}}'.
    # A district not named, or a key left out, takes the three settings above.
    offices: str = ""
    # Who besides the office gets the monthly 通报 (the ``bulletin`` deployment), as mail
    # addresses separated by commas: ZWGK_LEADERS="张三 <zhangsan@x.gov.cn>, lisi@x.gov.cn".
    # A district's own list is "leaders" in its ZWGK_OFFICES entry.
    leaders: str = ""
    # 各单位年度重大行政决策事项目录 due date (MM-DD); the district catalogue is 03-31.
    decision_catalogue_unit_due: str = "04-30"

    web_base_url: str = "http://127.0.0.1:8000"  # public address of `zwgk web` (links in mail)
    web_secret: SecretStr | None = None  # signs unit links; generated into var/web_secret if unset
    link_valid_days: int = 60
    # The workbench (/admin) logs an account out after this many minutes without a request.
    web_session_minutes: int = 30

    @field_validator("decision_catalogue_unit_due")
    @classmethod
    def _month_day(cls, v: str) -> str:
        try:
            m, d = (int(x) for x in v.split("-"))
            date(2024, m, d)
        except ValueError as exc:
            raise ValueError(f"ZWGK_DECISION_CATALOGUE_UNIT_DUE 应为 MM-DD，收到「{v}」") from exc
        return v

    @field_validator("offices")
    @classmethod
    def _offices(cls, v: str) -> str:
        _parse_offices(v)  # raises with a Chinese message
        return v

    @field_validator("leaders")
    @classmethod
    def _leaders(cls, v: str) -> str:
        parse_addresses(v, "ZWGK_LEADERS")  # raises with a Chinese message
        return v

    def office_for(self, district: str | None) -> Office:
        """The office that signs mail to ``district``'s units (its own entry in
        ``ZWGK_OFFICES`` over the installation-wide ``ZWGK_OFFICE_*``)."""
        own = _parse_offices(self.offices).get(district or "", {})
        return Office(
            name=own.get("name") or self.office_name,
            contact=own.get("contact", self.office_contact),
            phone=own.get("phone", self.office_phone),
            full_name=own.get("full_name", self.office_full_name),
            leaders=parse_addresses(
                own.get("leaders", self.leaders),
                f"ZWGK_OFFICES 中「{district}」的 leaders" if "leaders" in own else "ZWGK_LEADERS",
            ),
        )

    @field_validator("outbox_lease_seconds", "outbox_batch", "web_session_minutes")
    @classmethod
    def _positive(cls, v: float, info: ValidationInfo) -> float:
        if v <= 0:
            raise ValueError(f"ZWGK_{(info.field_name or '').upper()} 应大于 0，收到「{v}」")
        return v

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.var_dir / 'zwgk.db'}"

    @property
    def mail_dir(self) -> Path:
        return self.var_dir / "mail"

    @property
    def uses_capture(self) -> bool:
        """True when no real SMTP server is configured: mail goes to the local capture."""
        return not self.smtp_host

    @property
    def effective_smtp_host(self) -> str:
        return self.smtp_host or "127.0.0.1"

    @property
    def effective_smtp_port(self) -> int:
        if self.smtp_port:
            return self.smtp_port
        if self.uses_capture:
            return self.mail_capture_port
        return {"none": 25, "starttls": 587, "ssl": 465}[self.smtp_security]


@dataclass(frozen=True)
class Office:
    """Who signs the office's mail (落款): name, contact person, phone."""

    name: str
    contact: str = ""
    phone: str = ""
    full_name: str = ""  # "上海市长宁区人民政府办公室" (annual report title and preamble)
    leaders: tuple[str, ...] = ()  # addresses that get the monthly 通报 besides the office


_OFFICE_KEYS = ("name", "contact", "phone", "full_name", "leaders")


@lru_cache(maxsize=32)
def parse_addresses(text: str, where: str) -> tuple[str, ...]:
    """``"张三 <a@x.gov.cn>, b@x.gov.cn"`` → each address as a mail header writes it;
    raises ``ValueError`` naming ``where`` and the entry that is not an address."""
    out = []
    for part in (p.strip() for p in text.replace("，", ",").replace("；", ",").split(",")):
        if not part:
            continue
        parsed = getaddresses([part])
        name, addr = parsed[0] if len(parsed) == 1 else ("", "")
        local, _, domain = addr.partition("@")
        if not local or "." not in domain or " " in addr:
            raise ValueError(
                f"{where} 中的「{part}」不是有效的邮箱地址，应写作 张三 <zhangsan@example.gov.cn>，"
                "多个地址用逗号分隔"
            )
        out.append(f"{name} <{addr}>" if name else addr)
    return tuple(out)


@lru_cache(maxsize=8)
def _parse_offices(text: str) -> dict[str, dict[str, str]]:
    """``ZWGK_OFFICES`` read: district -> {name, contact, phone} (each optional)."""
    if not text.strip():
        return {}
    where = "ZWGK_OFFICES"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{where} 不是有效的 JSON（第{exc.lineno}行第{exc.colno}列：{exc.msg}），"
            '应写作 {"宝山区": {"name": "区政府办公室", "contact": "李明", "phone": "021-…"}}'
        ) from None
    if not isinstance(data, dict):
        raise ValueError(f"{where} 应为以区名为键的 JSON 对象，收到的是{type(data).__name__}")
    out: dict[str, dict[str, str]] = {}
    for district, entry in data.items():
        if not isinstance(entry, dict):
            raise ValueError(
                f"{where} 中「{district}」的值应为对象（name、contact、phone、full_name、leaders）"
            )
        for key, value in entry.items():
            if key not in _OFFICE_KEYS:
                near = get_close_matches(key, _OFFICE_KEYS, n=1)
                hint = (
                    f"，是否为「{near[0]}」？"
                    if near
                    else "，可用的字段：name、contact、phone、full_name、leaders"
                )
                raise ValueError(f"{where} 中「{district}」的字段「{key}」无法识别{hint}")
            if not isinstance(value, str):
                raise ValueError(
                    f"{where} 中「{district}」的字段「{key}」应为文字，收到「{value}」"
                )
        if "leaders" in entry:
            parse_addresses(entry["leaders"], f"{where} 中「{district}」的 leaders")
        out[str(district)] = {k: v.strip() for k, v in entry.items()}
    return out


@lru_cache
def get_settings() -> Settings:
    """The settings; a bad value is a UserError naming the variable (no traceback)."""
    try:
        return Settings()
    except ValidationError as exc:
        lines = [str(e["msg"]).removeprefix("Value error, ") for e in exc.errors()]
        raise UserError("环境变量设置有误：" + "；".join(lines)) from None


def reset_settings() -> None:
    """Forget cached settings (tests change the environment); ``zwgk.db`` then makes a new
    engine for the new settings on next use."""
    get_settings.cache_clear()
