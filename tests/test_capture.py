"""The local mail capture (``zwgk mail capture``) over real SMTP: a folder deleted while it
runs is made again; a place it cannot write to is a temporary refusal, so the mail stays
in the outbox and is sent again, never lost."""

from __future__ import annotations

import shutil
import smtplib
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from notifications.capture import start_capture
from tests.smtpd import free_port


def _message() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "gkb@example.gov.cn"
    msg["To"] = "jyj@example.gov.cn"
    msg["Subject"] = "【政务公开】测试"
    msg.set_content("区教育局：测试。")
    return msg


def test_a_mail_folder_deleted_while_capturing_is_made_again(tmp_path: Path) -> None:
    folder = tmp_path / "var" / "mail"
    port = free_port()
    controller = start_capture(folder, port=port)
    try:
        shutil.rmtree(tmp_path / "var")
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            smtp.send_message(_message())
    finally:
        controller.stop()
    (saved,) = folder.glob("*.eml")
    stored = message_from_bytes(saved.read_bytes(), policy=policy.default)
    assert stored["Subject"] == "【政务公开】测试"
    assert stored["X-Zwgk-Rcpt-To"] == "jyj@example.gov.cn"
    assert not list(folder.glob("*.tmp"))


def test_a_folder_it_cannot_write_is_a_temporary_refusal(tmp_path: Path) -> None:
    folder = tmp_path / "mail"
    port = free_port()
    controller = start_capture(folder, port=port)
    try:
        shutil.rmtree(folder)
        folder.write_text("a file where the folder was")  # not writable as a folder
        with (
            smtplib.SMTP("127.0.0.1", port) as smtp,
            pytest.raises(smtplib.SMTPDataError) as refused,
        ):
            smtp.send_message(_message())
    finally:
        controller.stop()
    assert refused.value.smtp_code == 451  # temporary: the outbox retries it
    assert b"Cannot save the message" in refused.value.smtp_error
