"""A real SMTP server on loopback (aiosmtpd) for the tests, able to misbehave on purpose:
wrong replies, refused recipients, slowness at any stage, a connection dropped at a given
message, a DATA phase held open (to kill the client while it waits)."""

from __future__ import annotations

import asyncio
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
    """Knobs for misbehaving. Message numbers count MAIL commands since the last clear()."""

    data_reply: str | None = None  # e.g. "451 4.3.0 try later" or "554 5.7.1 rejected"
    refuse: set[str] = field(default_factory=set)  # recipients answered 550
    slow_ehlo: float = 0.0  # seconds before answering EHLO (a server slow to greet)
    slow_rcpt: float = 0.0  # seconds before answering RCPT, before any data is sent
    slow_data: float = 0.0  # seconds before answering DATA (the message already kept)
    slow_only_first: bool = True  # the slowness hits the first message/connection only
    drop_at_mail: set[int] = field(default_factory=set)  # abort when message N starts (MAIL)
    drop_in_data: int | None = None  # abort the connection inside message N's DATA
    hold_data: int | None = None  # keep message N, then hold the reply until `release`
    held: threading.Event = field(default_factory=threading.Event)  # set once N is held
    release: threading.Event = field(default_factory=threading.Event)


class Recorder:
    def __init__(self) -> None:
        self.messages: list[Received] = []
        self.behaviour = Behaviour()
        self.lock = threading.Lock()
        self.mail_count = 0  # MAIL commands seen since clear()
        self.ehlo_count = 0
        self.slowed = False

    async def _slow(self, seconds: float) -> None:
        if seconds and not (self.behaviour.slow_only_first and self.slowed):
            self.slowed = True
            await asyncio.sleep(seconds)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # type: ignore[no-untyped-def]
        self.ehlo_count += 1
        await self._slow(self.behaviour.slow_ehlo)
        session.host_name = hostname
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # type: ignore[no-untyped-def]
        n = self.mail_count
        self.mail_count += 1
        session.zwgk_n = n
        if n in self.behaviour.drop_at_mail:
            server.transport.abort()
            return "421 4.3.0 going away"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        await self._slow(self.behaviour.slow_rcpt)
        if address in self.behaviour.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        n = getattr(session, "zwgk_n", -1)
        if self.behaviour.drop_in_data == n:
            server.transport.abort()  # like a crash before the message was kept
            return "421 4.3.0 going away"
        if self.behaviour.data_reply:
            await self._slow(self.behaviour.slow_data)
            return self.behaviour.data_reply
        # Keep the message first, then answer (as a real MTA does: queue file, then 250).
        # A client that gives up or dies after this point cannot know it was kept.
        with self.lock:
            self.messages.append(
                Received(
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    envelope.original_content or envelope.content,
                )
            )
        if self.behaviour.hold_data == n:
            self.behaviour.held.set()
            while not self.behaviour.release.is_set():
                await asyncio.sleep(0.05)
        await self._slow(self.behaviour.slow_data)
        return "250 Message accepted"

    def clear(self) -> None:
        self.behaviour.release.set()  # let a held DATA finish before forgetting it
        with self.lock:
            self.messages.clear()
        self.behaviour = Behaviour()
        self.mail_count = 0
        self.ehlo_count = 0
        self.slowed = False


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

    def subjects(self) -> list[str]:
        return [m.subject for m in self.messages]
