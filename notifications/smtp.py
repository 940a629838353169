"""Send mail over SMTP with the ``emails`` package: verified TLS, a timeout, one connection
per batch, and every failure raised (``emails`` is silent by default; we are not).

The same code talks to a real mail server or to the local capture server
(``notifications/capture.py``); configuration chooses which, not the code.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import emails
from emails.backend.smtp import SMTPBackend
from emails.backend.smtp.client import SMTPClientWithResponse, SMTPClientWithResponse_SSL

from zwgk.config import Settings


class SendError(Exception):
    """A message was not accepted. ``permanent`` for 5xx replies and refused recipients."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class ConnectError(SendError):
    """The server could not be reached or the session could not start (all transient)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=False)


def tls_context(settings: Settings) -> ssl.SSLContext:
    """A context that verifies the server certificate and host name."""
    ctx = ssl.create_default_context()
    if settings.smtp_ca_file:
        ctx.load_verify_locations(cafile=str(settings.smtp_ca_file))
    return ctx


class _VerifiedClient(SMTPClientWithResponse):
    """STARTTLS with a verifying context (``emails`` calls ``starttls()`` without one)."""

    def initialize(self):  # type: ignore[no-untyped-def]
        if not self._initialized:
            self.set_debuglevel(self.debug)
            if self.tls:
                self.ehlo_or_helo_if_needed()
                self.starttls(context=self.parent.ssl_context)
                self.ehlo()
            if self.user:
                self.login(user=self.user, password=self.password)
            self.ehlo_or_helo_if_needed()
            self._initialized = True


class _VerifiedSSLClient(SMTPClientWithResponse_SSL):
    """Implicit TLS (port 465) with a verifying context."""

    def __init__(self, **kw):  # type: ignore[no-untyped-def]
        args = {k: kw[k] for k in ("host", "port", "local_hostname", "timeout") if k in kw}
        smtplib.SMTP_SSL.__init__(self, context=kw["parent"].ssl_context, **args)
        SMTPClientWithResponse.__init__(self, **kw)


class VerifiedSMTPBackend(SMTPBackend):
    connection_cls = _VerifiedClient
    connection_ssl_cls = _VerifiedSSLClient

    def __init__(self, *, ssl_context: ssl.SSLContext, **kwargs):  # type: ignore[no-untyped-def]
        self.ssl_context = ssl_context
        super().__init__(fail_silently=False, **kwargs)


@dataclass(frozen=True)
class Envelope:
    """What to send: one message to one or more recipients."""

    to: list[str]
    subject: str
    html: str
    text: str
    message_id: str | None = None
    cc: tuple[str, ...] = ()
    attachments: tuple[tuple[str, bytes, str], ...] = ()  # (filename, data, mime type)


def resolve_password(settings: Settings) -> str | None:
    """The SMTP password from the environment, or from a Prefect Secret block."""
    if settings.smtp_password is not None:
        return settings.smtp_password.get_secret_value()
    if settings.smtp_password_block:
        from prefect.blocks.system import Secret

        block = Secret.load(settings.smtp_password_block, _sync=True)  # type: ignore[call-arg]
        return str(block.get())  # type: ignore[union-attr]
    return None


class Connection:
    """An open SMTP session that sends envelopes one by one."""

    def __init__(self, backend: VerifiedSMTPBackend, mail_from: str, timeout: float) -> None:
        self.backend = backend
        self.mail_from = mail_from
        self.timeout = timeout

    def send(self, env: Envelope) -> list[str]:
        """Send ``env``; returns the recipients the server refused while taking the rest.

        Talks to the connection's client directly: ``emails``' ``backend.sendmail`` would
        silently reconnect and send again after a disconnect, which can double a message
        the server already kept. Reconnecting is the outbox's decision, not the library's.
        """
        message = emails.html(
            subject=env.subject,
            html=env.html,
            text=env.text,
            mail_from=self.mail_from,
            mail_to=list(env.to),
            charset="utf-8",
            message_id=env.message_id or None,
            cc=list(env.cc) or None,
        )
        for filename, data, mime in env.attachments:
            message.attach(
                data=data, filename=filename, content_disposition="attachment", mime_type=mime
            )
        try:
            response = self.backend.get_client().sendmail(
                from_addr=message.mail_from[1],
                to_addrs=[*env.to, *env.cc],
                msg=message.as_bytes(),
            )
            if response is not None:
                response.raise_if_needed()
        except smtplib.SMTPRecipientsRefused as exc:
            raise SendError(f"收件人被拒绝（{_refusals(exc.recipients)}）", permanent=True) from exc
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code == 421:  # the server is closing the connection
                raise ConnectError(
                    f"邮件服务器关闭了连接：{exc.smtp_code} {_text(exc.smtp_error)}"
                ) from exc
            raise SendError(
                f"邮件服务器拒绝：{exc.smtp_code} {_text(exc.smtp_error)}",
                permanent=exc.smtp_code >= 500,
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            if _timed_out(exc):
                raise ConnectError(f"邮件服务器 {self.timeout:g} 秒内未响应（超时）") from exc
            raise ConnectError(f"与邮件服务器的连接中断：{exc or exc.__class__.__name__}") from exc
        refused = getattr(response, "refused_recipients", None) or {}
        return [f"{rcpt}: {code} {_text(resp)}" for rcpt, (code, resp) in refused.items()]


def _timed_out(exc: BaseException) -> bool:
    """True for a socket time-out, also when smtplib wrapped it in SMTPServerDisconnected."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return False
        if isinstance(seen, TimeoutError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _refusals(recipients: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{rcpt}: {code} {_text(resp)}" for rcpt, (code, resp) in recipients.items())


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


@contextmanager
def connect(settings: Settings) -> Iterator[Connection]:
    """Open one SMTP connection for a batch; always closed on exit."""
    backend = VerifiedSMTPBackend(
        ssl_context=tls_context(settings),
        host=settings.effective_smtp_host,
        port=settings.effective_smtp_port,
        ssl=settings.smtp_security == "ssl",
        tls=settings.smtp_security == "starttls",
        user=settings.smtp_user,
        password=resolve_password(settings),
        timeout=settings.smtp_timeout,
    )
    where = f"{settings.effective_smtp_host}:{settings.effective_smtp_port}"
    try:
        backend.get_client()
    except UnicodeEncodeError as exc:
        raise ConnectError(
            f"无法登录邮件服务器 {where}：用户名或密码含非 ASCII 字符（{exc.object[exc.start : exc.end]}），SMTP 登录不支持"
        ) from exc
    except (smtplib.SMTPException, OSError) as exc:
        if _timed_out(exc):
            raise ConnectError(
                f"无法连接邮件服务器 {where}：{settings.smtp_timeout:g} 秒内未响应（超时）"
            ) from exc
        hint = (
            "（本地邮件捕获服务未启动？请先运行 make run 或 zwgk mail capture）"
            if settings.uses_capture
            else ""
        )
        raise ConnectError(f"无法连接邮件服务器 {where}：{exc}{hint}") from exc
    try:
        yield Connection(backend, settings.mail_from, settings.smtp_timeout)
    finally:
        try:
            backend.close()
        except Exception:  # noqa: BLE001 - closing a dead connection is not an error
            pass
