"""Settings from the environment (prefix ``ZWGK_``), read lazily via :func:`get_settings`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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
    # 各单位年度重大行政决策事项目录 due date (MM-DD); the district catalogue is 03-31.
    decision_catalogue_unit_due: str = "04-30"

    web_base_url: str = "http://127.0.0.1:8000"  # public address of `zwgk web` (links in mail)
    web_secret: SecretStr | None = None  # signs unit links; generated into var/web_secret if unset
    link_valid_days: int = 60

    @field_validator("decision_catalogue_unit_due")
    @classmethod
    def _month_day(cls, v: str) -> str:
        from datetime import date

        try:
            m, d = (int(x) for x in v.split("-"))
            date(2024, m, d)
        except ValueError as exc:
            raise ValueError(f"ZWGK_DECISION_CATALOGUE_UNIT_DUE 应为 MM-DD，收到「{v}」") from exc
        return v

    @field_validator("outbox_lease_seconds", "outbox_batch")
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


@lru_cache
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget cached settings (tests change the environment)."""
    get_settings.cache_clear()
    from zwgk import db

    db.reset_engine()
