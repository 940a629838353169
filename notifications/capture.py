"""Local SMTP capture server (本地邮件捕获): stores each received message as ``.eml``.

Used by ``make run`` when no real SMTP server is configured (``ZWGK_SMTP_HOST`` unset), so
an administrator can open every notification in a mail client from ``var/mail/``.
"""

from __future__ import annotations

import itertools
import logging
import threading
from datetime import datetime
from pathlib import Path

from aiosmtpd.controller import Controller

logger = logging.getLogger(f"zwgk.{__name__}")  # one hierarchy for the CLI to quiet


class SaveToDirectory:
    """aiosmtpd handler writing one ``.eml`` file per message and recipient list."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        with self._lock:
            n = next(self._counter)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        path = self.directory / f"{stamp}-{n:05d}.eml"
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8")
        header = f"X-Zwgk-Rcpt-To: {', '.join(envelope.rcpt_tos)}\r\n".encode()
        tmp = path.with_suffix(".tmp")
        try:
            # Made again if it was deleted while the capture ran (someone emptying var/mail).
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(header + content)
            tmp.rename(path)
        except OSError as exc:  # a full disk, no permission: temporary, the sender retries
            logger.warning("cannot save mail to %s: %s", self.directory, exc)
            return f"451 4.3.0 Cannot save the message in {self.directory}: {exc.strerror}"
        logger.info("captured mail for %s -> %s", envelope.rcpt_tos, path.name)
        return "250 Message accepted for delivery"


def start_capture(directory: Path, host: str = "127.0.0.1", port: int = 8025) -> Controller:
    """Start the capture server in a background thread; call ``.stop()`` to end it."""
    controller = Controller(SaveToDirectory(directory), hostname=host, port=port)
    controller.start()
    return controller
