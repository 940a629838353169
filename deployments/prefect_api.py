"""Which Prefect server a command's flow runs talk to.

In order:

1. ``PREFECT_API_URL`` when set (a production server, or the test harness): it must answer.
2. The local server ``make run`` / ``zwgk up`` started, found through ``var/prefect_api_url``.
3. Otherwise a temporary server of our own for this one command: ``prefect server start
   --no-services --no-ui`` on a free loopback port, its output in
   ``var/prefect/temporary-server.log``, waited for up to ``ZWGK_PREFECT_STARTUP_TIMEOUT``
   seconds (the first start on a cold Prefect home migrates Prefect's database and takes
   30 s and more on two slow cores), stopped when the command ends.

Why not Prefect's own temporary server (what a flow call does with no ``PREFECT_API_URL``):
its startup timeout (20 s) is too short on a cold home, it prints its child's traceback on
our console, and it marks itself running before it answers, so the events worker, started
from another thread meanwhile, connects to nothing, stops, and every later event prints
``EventsWorker … Cannot put items in a stopped service instance``. A server that answers
before any flow starts has none of these.

Finding a running server (steps 1 and 2) is ``workflows.prefect_server``'s, which the
workbench shares; only commands start a temporary one.

Every directory Prefect needs (``PREFECT_HOME`` and its parents) is created first: Prefect
3.9 no longer creates a missing parent.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from workflows.prefect_server import healthy, local_server
from zwgk.config import Settings
from zwgk.errors import UserError


def default_home(settings: Settings) -> Path:
    """Point Prefect at ``var/prefect`` (unless ``PREFECT_HOME`` is set) and try to create it.

    Called before anything imports Prefect, which reads its home when imported. A home that
    cannot be made is reported by :func:`prepare_home` when a command needs Prefect.
    """
    home = Path(
        os.environ.setdefault("PREFECT_HOME", str((settings.var_dir / "prefect").resolve()))
    )
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    with contextlib.suppress(OSError):
        home.mkdir(parents=True, exist_ok=True)
    warnings.filterwarnings("ignore", message="Failed to create the Prefect home directory")
    return home


def prepare_home(settings: Settings) -> Path:
    """The Prefect home, created with its parents, or one message saying why it cannot be."""
    home = default_home(settings)
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(
            f"无法创建 Prefect 工作目录 {home}（{exc.strerror}）：请检查该目录的权限，"
            "或用环境变量 PREFECT_HOME 指定一个可写的目录",
            exit_code=1,
        ) from None
    return home


def server_url(settings: Settings) -> str | None:
    """A running server to use (``PREFECT_API_URL``, else the local one), without starting
    one. ``PREFECT_API_URL`` set but not answering is an error that says so."""
    prepare_home(settings)
    # Prefect reads its home when first imported: only after prepare_home.
    from prefect.settings import PREFECT_API_URL

    configured = PREFECT_API_URL.value()
    if configured:
        if not healthy(configured, timeout=5):
            raise UserError(
                f"无法连接 Prefect 服务器 {configured}（环境变量 PREFECT_API_URL）：请确认该服务器已启动，"
                "或取消该设置（unset PREFECT_API_URL），由 zwgk 自动使用本地服务器或临时服务器",
                exit_code=1,
            )
        return str(configured)
    return local_server(settings)


@contextmanager
def prefect_api(settings: Settings, *, temporary: bool = True) -> Iterator[str]:
    """Run the block's flows against a Prefect server that answers; yields its API URL.

    ``temporary=False`` (``zwgk serve``): schedules run only on a real server, so with none
    running this is an error that says how to start one.
    """
    url = server_url(settings)
    # After server_url has prepared Prefect's home (read on first import).
    from prefect.settings import PREFECT_API_URL, temporary_settings

    if url is not None:
        with temporary_settings(updates={PREFECT_API_URL: url}):
            try:
                yield url
            finally:
                _drain()
        return
    if not temporary:
        raise UserError(
            "没有运行中的 Prefect 服务器：定时部署需要它按时触发。请用 make run（zwgk up）一并启动，"
            "或先运行 prefect server start 并设置 PREFECT_API_URL",
            exit_code=1,
        )
    server = TemporaryServer(settings)
    try:
        url = server.start()
        with temporary_settings(updates={PREFECT_API_URL: url}):
            try:
                yield url
            finally:
                _drain()
    finally:
        server.stop()


def _drain() -> None:
    """Deliver the run's queued events and logs while the server is still there."""
    try:
        from prefect.events.worker import EventsWorker
        from prefect.logging.handlers import APILogWorker
    except ImportError:  # pragma: no cover - a Prefect without these workers
        return
    for worker in (EventsWorker, APILogWorker):
        worker.drain_all(timeout=10)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TemporaryServer:
    """``prefect server start`` for one command, on Prefect's database in ``PREFECT_HOME``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.home = prepare_home(settings)
        self.log_path = self.home / "temporary-server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        timeout = self.settings.prefect_startup_timeout
        port = _free_port()
        url = f"http://127.0.0.1:{port}/api"
        print(
            "未发现运行中的 Prefect 服务器，正在启动临时服务器（首次启动约需半分钟；"
            "长期使用请另开终端运行 make run）……",
            file=sys.stderr,
            flush=True,
        )
        env = {
            **os.environ,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
        }
        env.pop("PREFECT_API_URL", None)
        with open(self.log_path, "ab") as log:
            # A session of its own: Ctrl-C in the terminal reaches us, and we stop it.
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "prefect",
                    "server",
                    "start",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--no-services",
                    "--no-ui",
                ],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                code = self.proc.returncode
                self.proc = None
                raise UserError(
                    f"临时 Prefect 服务器启动失败（退出码 {code}），详情见 {self.log_path}。"
                    "请另开终端运行 make run 启动本地服务后重试，或设置 PREFECT_API_URL 指向已有的 Prefect 服务器",
                    exit_code=1,
                )
            if healthy(url, timeout=2):
                return url
            time.sleep(0.5)
        self.stop()
        raise UserError(
            f"临时 Prefect 服务器在 {timeout:g} 秒内未就绪，详情见 {self.log_path}。"
            "机器较慢时可调大 ZWGK_PREFECT_STARTUP_TIMEOUT（秒）后重试，"
            "或另开终端运行 make run 启动本地服务",
            exit_code=1,
        )

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
