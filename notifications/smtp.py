"""Send mail over SMTP: messages built with the ``emails`` package's public API
(``emails.html(...).as_bytes()``), sent over one ``smtplib`` connection per batch with
verified TLS and a timeout, and every failure raised.

``emails``' own SMTP client classes are not used: they are not its public API, they call
``starttls()`` without a verifying context, and its ``sendmail`` silently reconnects and
sends again after a disconnect, which can double a message the server already kept
(reconnecting is the outbox's decision). Building a message with ``emails`` costs about
what the standard library's ``EmailMessage`` does (both ~5 ms for a 100-item assignment
mail of 100 KB on this project's benchmark machine; README "Benchmark").

The same code talks to a real mail server or to the local capture server
(``notifications/capture.py``); configuration chooses which, not the code.
"""

from __future__ import annotations

import smtplib
import ssl
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import parseaddr

import emails

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
        from prefect.blocks.system import Secret  # Prefect only for a password kept in a block

        block = Secret.load(settings.smtp_password_block, _sync=True)  # type: ignore[call-arg]
        return str(block.get())  # type: ignore[union-attr]
    return None


class Connection:
    """An open SMTP session that sends envelopes one by one."""

    def __init__(self, client: smtplib.SMTP, mail_from: str, timeout: float) -> None:
        self.client = client
        self.mail_from = mail_from
        self.envelope_from = parseaddr(mail_from)[1]
        self.timeout = timeout

    def message(self, env: Envelope) -> bytes:
        """The MIME message (multipart text + HTML, attachments), built by ``emails``."""
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
        mime_tree = message.as_message()
        # Each multipart gets its boundary here: left unset, the standard library's generator
        # makes one per level and searches the whole flattened text below it to prove it
        # unused (three nested levels: three searches of the ~130 KB of a 100-item mail, half
        # the cost of building it). A boundary with "_" cannot occur in base64 or
        # quoted-printable text, which is all ``emails`` writes below it.
        for part in mime_tree.walk():
            if part.is_multipart():
                part.set_boundary(f"==zwgk_{uuid.uuid4().hex}")
        return mime_tree.as_bytes(linesep="\r\n")  # type: ignore[no-any-return]

    def send(self, env: Envelope) -> list[str]:
        """Send ``env``; returns the recipients the server refused while taking the rest."""
        data = self.message(env)
        try:
            refused = self.client.sendmail(self.envelope_from, [*env.to, *env.cc], data)
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


def _open(settings: Settings) -> smtplib.SMTP:
    """Connect, STARTTLS or implicit TLS with a verifying context, log in."""
    host, port, timeout = (
        settings.effective_smtp_host,
        settings.effective_smtp_port,
        settings.smtp_timeout,
    )
    client: smtplib.SMTP
    if settings.smtp_security == "ssl":
        client = smtplib.SMTP_SSL(host, port, timeout=timeout, context=tls_context(settings))
    else:
        client = smtplib.SMTP(host, port, timeout=timeout)
    try:
        client.ehlo()
        if settings.smtp_security == "starttls":
            client.starttls(context=tls_context(settings))
            client.ehlo()
        password = resolve_password(settings)
        if settings.smtp_user:
            client.login(settings.smtp_user, password or "")
    except BaseException:
        _close(client)
        raise
    return client


def _close(client: smtplib.SMTP) -> None:
    try:
        client.quit()
    except Exception:  # noqa: BLE001 - closing a dead connection is not an error
        client.close()


@contextmanager
def connect(settings: Settings) -> Iterator[Connection]:
    """Open one SMTP connection for a batch; always closed on exit."""
    where = f"{settings.effective_smtp_host}:{settings.effective_smtp_port}"
    try:
        client = _open(settings)
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
        yield Connection(client, settings.mail_from, settings.smtp_timeout)
    finally:
        _close(client)
