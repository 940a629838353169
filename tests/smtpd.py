"""A real SMTP server on loopback (aiosmtpd) for the tests, able to misbehave on purpose."""

from __future__ import annotations

import email
import socket
import threading
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=policy.default)  # type: ignore[return-value]

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def text(self) -> str:
        return self.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]

    def html(self) -> str:
        return self.message.get_body(("html",)).get_content()  # type: ignore[union-attr]


@dataclass
class Behaviour:
    """Knobs for misbehaving: reply codes for RCPT/DATA, refused recipients."""

    data_reply: str | None = None  # e.g. "451 4.3.0 try later" or "554 5.7.1 rejected"
    refuse: set[str] = field(default_factory=set)  # recipients answered 550


class Recorder:
    def __init__(self) -> None:
        self.messages: list[Received] = []
        self.behaviour = Behaviour()
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        if address in self.behaviour.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        if self.behaviour.data_reply:
            return self.behaviour.data_reply
        with self.lock:
            self.messages.append(
                Received(
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    envelope.original_content or envelope.content,
                )
            )
        return "250 Message accepted"

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()
        self.behaviour = Behaviour()


class SMTPServer:
    def __init__(self, **controller_kwargs) -> None:  # type: ignore[no-untyped-def]
        self.recorder = Recorder()
        self.port = free_port()
        self.controller = Controller(
            self.recorder, hostname="127.0.0.1", port=self.port, **controller_kwargs
        )

    def start(self) -> SMTPServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    @property
    def messages(self) -> list[Received]:
        return list(self.recorder.messages)
