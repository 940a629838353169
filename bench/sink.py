"""A local SMTP sink (aiosmtpd) in its own process, so the server never competes with the
measured code for the GIL. It accepts every message and only counts messages and bytes."""

from __future__ import annotations

import multiprocessing as mp
import socket
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(port: int, messages: Any, nbytes: Any, ready: Any, stop: Any) -> None:
    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
            with messages.get_lock():
                messages.value += 1
                nbytes.value += len(envelope.original_content or envelope.content or b"")
            return "250 Message accepted"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


class Sink:
    def __init__(self) -> None:
        ctx = mp.get_context("spawn")
        self.port = free_port()
        self._messages = ctx.Value("q", 0)
        self._bytes = ctx.Value("q", 0)
        self._ready = ctx.Event()
        self._stop = ctx.Event()
        self._proc = ctx.Process(
            target=_serve,
            args=(self.port, self._messages, self._bytes, self._ready, self._stop),
            daemon=True,
            name="zwgk-bench-smtp-sink",
        )

    def start(self) -> Sink:
        self._proc.start()
        if not self._ready.wait(30):
            raise RuntimeError("SMTP sink did not start")
        return self

    @property
    def received(self) -> tuple[int, int]:
        """(messages, bytes) accepted so far."""
        return int(self._messages.value), int(self._bytes.value)

    def stop(self) -> None:
        self._stop.set()
        self._proc.join(10)
        if self._proc.is_alive():
            self._proc.terminate()
            self._proc.join(5)
