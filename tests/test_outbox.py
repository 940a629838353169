"""Outbox dispatch against a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import datetime as dt
import ssl
from pathlib import Path

import pytest
from sqlmodel import select

from models import OutboxMessage
from notifications.outbox_send import dispatch
from tests.factories import queue_messages
from tests.smtpd import SMTPServer
from zwgk.config import get_settings, reset_settings
from zwgk.db import session_scope


def _queue(n: int = 3, recipient: str = "unit{}@test.example.gov.cn") -> None:
    queue_messages(n, recipient)


def _rows() -> list[OutboxMessage]:
    with session_scope() as s:
        return list(s.exec(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_sends_each_once_and_chinese_subject_decodes(env: Path, smtp: SMTPServer) -> None:
    _queue(3)
    report = dispatch(settings=get_settings())
    assert report.ok and len(report.sent) == 3
    assert sorted(m.subject for m in smtp.messages) == [
        f"【政务公开】新增非密公文全量备案 第{i}号" for i in range(3)
    ]
    assert smtp.messages[0].text().strip() == "正文 0"
    assert all(r.status == "sent" and r.sent_at and r.attempts == 1 for r in _rows())
    # A second dispatch sends nothing.
    assert dispatch(settings=get_settings()).sent == []
    assert len(smtp.messages) == 3


def test_enqueue_same_key_twice_is_one_message(env: Path) -> None:
    _queue(2)
    _queue(2)
    assert len(_rows()) == 2


def test_server_down_keeps_messages_pending_then_delivers(
    env: Path, smtp: SMTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.smtpd import free_port

    _queue(2)
    monkeypatch.setenv("ZWGK_SMTP_PORT", str(free_port()))  # nothing listens there
    reset_settings()
    report = dispatch(settings=get_settings())
    assert not report.ok and len(report.retry) == 2
    rows = _rows()
    assert all(
        r.status == "pending" and r.attempts == 1 and "无法连接邮件服务器" in (r.last_error or "")
        for r in rows
    )
    monkeypatch.setenv("ZWGK_SMTP_PORT", str(smtp.port))
    reset_settings()
    # The automatic retry waits out the backoff; the next run sends what is pending.
    waiting = dispatch(settings=get_settings())
    assert waiting.sent == [] and waiting.waiting == 2 and "等待重试" in waiting.summary()
    assert len(dispatch(settings=get_settings(), respect_backoff=False).sent) == 2
    assert len(smtp.messages) == 2


def test_temporary_reply_is_retried_later(env: Path, smtp: SMTPServer) -> None:
    _queue(1)
    smtp.recorder.behaviour.data_reply = "451 4.3.0 Try again later"
    report = dispatch(settings=get_settings())
    assert report.retry and not report.failed
    assert _rows()[0].status == "pending" and "451" in (_rows()[0].last_error or "")
    smtp.recorder.behaviour.data_reply = None
    assert len(dispatch(settings=get_settings(), respect_backoff=False).sent) == 1


def test_permanent_reply_fails_with_reason(env: Path, smtp: SMTPServer) -> None:
    _queue(1)
    smtp.recorder.behaviour.data_reply = "554 5.7.1 Message rejected"
    report = dispatch(settings=get_settings())
    assert report.failed and not report.retry
    row = _rows()[0]
    assert row.status == "failed" and "554" in (row.last_error or "")


def test_refused_recipient_does_not_block_the_batch(env: Path, smtp: SMTPServer) -> None:
    _queue(3)
    smtp.recorder.behaviour.refuse = {"unit1@test.example.gov.cn"}
    report = dispatch(settings=get_settings())
    assert len(report.sent) == 2 and len(report.failed) == 1
    assert "unit1@test.example.gov.cn" in report.failed[0][1]
    assert len(smtp.messages) == 2


def test_gives_up_after_max_attempts(
    env: Path, smtp: SMTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZWGK_MAX_SEND_ATTEMPTS", "2")
    reset_settings()
    _queue(1)
    smtp.recorder.behaviour.data_reply = "451 4.3.0 busy"
    dispatch(settings=get_settings())
    report = dispatch(settings=get_settings(), respect_backoff=False)
    assert report.failed and _rows()[0].status == "failed" and _rows()[0].attempts == 2


# --------------------------------------------------------------------------- TLS


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_certificate_is_verified(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, security: str
) -> None:
    cert, key = _self_signed(tmp_path)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    kwargs = (
        {"tls_context": ctx, "require_starttls": True}
        if security == "starttls"
        else {"ssl_context": ctx}
    )
    server = SMTPServer(**kwargs).start()
    try:
        monkeypatch.setenv("ZWGK_SMTP_PORT", str(server.port))
        monkeypatch.setenv("ZWGK_SMTP_SECURITY", security)
        reset_settings()
        _queue(1)
        # Untrusted self-signed certificate: refused, message kept for a later run.
        report = dispatch(settings=get_settings())
        assert report.retry and "CERTIFICATE_VERIFY_FAILED" in report.retry[0][1]
        assert server.messages == []
        # Trusting that certificate explicitly: delivered.
        monkeypatch.setenv("ZWGK_SMTP_CA_FILE", str(cert))
        reset_settings()
        assert len(dispatch(settings=get_settings(), respect_backoff=False).sent) == 1
        assert len(server.messages) == 1
    finally:
        server.stop()
