"""``zwgk up`` / ``make run``: everything on embedded defaults, in one terminal.

A small supervisor. It starts, each as a child process with its output in a log file:

- a local Prefect server (Prefect's own database under ``var/prefect/``, apart from the app
  database; Prefect's temporary server, started when no ``PREFECT_API_URL`` is set, never
  runs schedules, hence a real ``prefect server start``), log ``var/prefect/server.log``;
- the completion web page (``zwgk web``), log ``var/log/web.log``;
- the SMTP capture server when no real SMTP host is configured (``zwgk mail capture``),
  log ``var/log/mail-capture.log``;
- once the server answers, ``zwgk serve`` for every obligation deployment, log
  ``var/prefect/serve.log``.

Stopping is the supervisor's alone. Each child runs in a session of its own, so the SIGINT
a terminal sends its whole foreground process group on Ctrl-C reaches only the supervisor
(and ``make``), never a child half-way: otherwise the Prefect server dies at once while the
deployments' runner, its client retrying the dead API with back-off, hangs for minutes
printing connection tracebacks. On SIGINT, SIGTERM or SIGHUP the supervisor says so in one
line and stops the children in order: the runner, the web page and the capture first (the
runner still reaches the API to pause its schedules), then the server; whatever has not
exited after a few seconds is killed, with its whole process group (flow runs included).
A second Ctrl-C kills everything at once. If a child exits on its own, the supervisor names
it and its log, stops the rest and exits 1. Should the supervisor itself be killed, every
child gets SIGKILL from the kernel (``PR_SET_PDEATHSIG``, Linux).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from workflows.prefect_server import MARKER, answers, healthy
from zwgk.config import get_settings
from zwgk.errors import UserError
from zwgk.migrations import init_db

STARTUP_TIMEOUT = 180.0  # a cold Prefect home migrates Prefect's database first (30 s+)
STOP_GRACE = 12.0  # seconds each stage of stopping may take before its processes are killed
POLL = 0.2


class _StopRequested(Exception):
    pass


class _ChildExited(Exception):
    def __init__(self, child: Child) -> None:
        self.child = child


class _NotReady(Exception):
    def __init__(self, child: Child, timeout: float) -> None:
        self.child = child
        self.timeout = timeout


class Child:
    """One service the supervisor runs: a process leading its own session."""

    def __init__(
        self, label: str, argv: list[str], log_path: Path, env: dict[str, str], *, last: bool
    ) -> None:
        self.label = label  # Chinese, as the user sees it: "Prefect 服务器"
        self.log_path = log_path
        self.last = last  # stopped after the others (the server they talk to)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        parent = os.getpid()
        with open(log_path, "ab") as log:
            self.proc = subprocess.Popen(
                argv,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=lambda: _die_with(parent),
            )
        self.pid = self.proc.pid  # also its process group (it leads its own session)
        self.status: int | None = None  # like Popen.returncode, once it has exited

    def exited(self) -> bool:
        """Whether it has exited, leaving it unreaped: its process group id cannot be
        reused until :meth:`reap`, so :meth:`signal_group` never hits a stranger."""
        if self.status is not None:
            return True
        try:
            info = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:  # already reaped
            self.status = self.proc.returncode if self.proc.returncode is not None else 0
            return True
        if info is None or info.si_pid == 0:
            return False
        code = info.si_status
        self.status = code if info.si_code == os.CLD_EXITED else -code
        return True

    def terminate(self) -> None:
        """SIGTERM to the child alone: ``zwgk serve`` cancels its flow runs itself, through
        the API, so they end as Cancelled rather than crashed by a signal of their own."""
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass

    def signal_group(self, signum: int) -> None:
        try:
            os.killpg(self.pid, signum)
        except (ProcessLookupError, PermissionError):
            pass

    def reap(self) -> None:
        self.proc.wait()

    def how(self) -> str:
        """How it ended, in words: "退出码 1" or "被信号 SIGKILL 终止"."""
        if self.status is not None and self.status < 0:
            try:
                name = signal.Signals(-self.status).name
            except ValueError:
                name = str(-self.status)
            return f"被信号 {name} 终止"
        return f"退出码 {self.status}"


_prctl: Callable[..., int] | None = None
if sys.platform == "linux":
    import ctypes

    try:
        _prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # pragma: no cover - a libc without prctl
        _prctl = None


def _die_with(parent: int) -> None:
    """In the child, before exec: get SIGKILL when the supervisor dies, however it dies."""
    if _prctl is not None:
        _prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # it died before the line above
        os._exit(1)


class Supervisor:
    """Starts children, watches them, and stops them all, on a signal or when one exits."""

    def __init__(self) -> None:
        self.children: list[Child] = []
        self.signal: int | None = None
        self.marker: Path | None = None  # removed on every way out, a forced one too
        self._previous: dict[int, object] = {}

    # -- signals ------------------------------------------------------------------------

    def install(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            # `nohup zwgk up`: keep ignoring SIGHUP. SIGINT is handled even when inherited as
            # ignored (`make run &` from a script ignores it): a deliberate `kill -INT` of the
            # group must stop the service, and there is no terminal to protect it from.
            if signum == signal.SIGHUP and signal.getsignal(signum) is signal.SIG_IGN:
                continue
            self._previous[signum] = signal.signal(signum, self._on_signal)

    def restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.signal is None:
            self.signal = signum
            # Right away, whatever the main loop is doing; os.write is safe in a handler.
            labels = "、".join(c.label for c in self.children)
            _say(f"正在停止 zwgk（{labels}）……" if labels else "正在停止 zwgk……")
        elif signum == signal.SIGINT:  # a second Ctrl-C: no more waiting
            for child in self.children:
                child.signal_group(signal.SIGKILL)
            deadline = time.monotonic() + 2
            for child in self.children:  # reap them, not leave zombies to init
                while time.monotonic() < deadline:
                    try:
                        if os.waitpid(child.pid, os.WNOHANG)[0]:
                            break
                    except ChildProcessError:
                        break
                    time.sleep(0.01)
            if self.marker is not None:
                self.marker.unlink(missing_ok=True)
            _say("已强制停止。")
            os._exit(130)
        # Another SIGTERM/SIGHUP while stopping (make forwards the one it got): keep going.

    # -- children -----------------------------------------------------------------------

    def start(
        self,
        label: str,
        argv: list[str],
        log_path: Path,
        env: dict[str, str],
        *,
        last: bool = False,
    ) -> Child:
        self.check()
        child = Child(label, argv, log_path, env, last=last)
        self.children.append(child)
        return child

    def check(self) -> None:
        """Raise if a stop was asked for or a child has exited."""
        if self.signal is not None:
            raise _StopRequested
        for child in self.children:
            if child.exited():
                raise _ChildExited(child)

    def wait_for(self, ready: Callable[[], bool], child: Child, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self.check()
            if ready():
                return
            if time.monotonic() > deadline:
                raise _NotReady(child, timeout)
            time.sleep(POLL)

    def watch(self) -> None:
        """Until a signal comes or a child exits."""
        while True:
            self.check()
            time.sleep(POLL)

    def stop_all(self) -> None:
        """SIGTERM the children, those marked ``last`` after the others, each stage given
        STOP_GRACE seconds; then SIGKILL every child's process group (a flow run, anything
        left behind) and reap them."""
        for stage in (
            [c for c in self.children if not c.last],
            [c for c in self.children if c.last],
        ):
            for child in stage:
                if not child.exited():
                    child.terminate()
            deadline = time.monotonic() + STOP_GRACE
            while time.monotonic() < deadline and not all(c.exited() for c in stage):
                time.sleep(0.05)
        for child in self.children:
            child.signal_group(signal.SIGKILL)
        for child in self.children:
            child.reap()


def _say(line: str, fd: int = 1) -> None:
    """One line, unbuffered: safe inside a signal handler."""
    try:
        os.write(fd, (line + "\n").encode())
    except OSError:  # a terminal or pipe that is gone
        pass


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def run_local(port: int = 4200, web_port: int = 8000) -> None:
    """Run every service until Ctrl-C / SIGTERM or until one of them exits; then stop all.

    Exits 0 after SIGTERM or SIGHUP, 130 after Ctrl-C, 1 when a service failed.
    """
    supervisor = Supervisor()
    supervisor.install()  # first: a Ctrl-C from here on stops what has started
    try:
        code = _run(supervisor, port, web_port)
    finally:
        supervisor.restore()
    if code:
        raise SystemExit(code)


def _run(supervisor: Supervisor, port: int, web_port: int) -> int:
    settings = get_settings()
    busy = [p for p in (port, web_port) if not _port_free(p)]
    if settings.uses_capture and not _port_free(settings.mail_capture_port):
        busy.append(settings.mail_capture_port)
    if busy:
        raise UserError(
            f"端口 {'、'.join(map(str, busy))} 已被占用：zwgk 是否已在运行？"
            "请先停止它，或用 --port / --web-port / ZWGK_MAIL_CAPTURE_PORT 换一个端口"
        )

    init_db()  # a database that cannot be reached is one message, before anything starts

    var = settings.var_dir.resolve()
    prefect_home = var / "prefect"
    prefect_home.mkdir(parents=True, exist_ok=True)
    marker = var / MARKER
    api_url = f"http://127.0.0.1:{port}/api"
    env = {
        **os.environ,
        "PREFECT_HOME": str(prefect_home),
        "PREFECT_API_URL": api_url,
        "PREFECT_SERVER_API_HOST": "127.0.0.1",
        "PREFECT_SERVER_API_PORT": str(port),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PYTHONUNBUFFERED": "1",  # the logs show what happened up to the last moment
    }
    zwgk = [sys.executable, "-m", "zwgk.cli"]
    started = False
    try:
        print(f"正在启动 Prefect 服务器（日志：{prefect_home / 'server.log'}）……", flush=True)
        server = supervisor.start(
            "Prefect 服务器",
            [sys.executable, "-m", "prefect", "server", "start"]
            + ["--host", "127.0.0.1", "--port", str(port)],
            prefect_home / "server.log",
            env,
            last=True,
        )
        web = supervisor.start(
            "填报网页",
            [*zwgk, "web", "--host", "127.0.0.1", "--port", str(web_port)],
            var / "log" / "web.log",
            env,
        )
        capture = None
        if settings.uses_capture:
            capture = supervisor.start(
                "邮件捕获",
                [*zwgk, "mail", "capture", "--port", str(settings.mail_capture_port)],
                var / "log" / "mail-capture.log",
                env,
            )
        supervisor.wait_for(lambda: healthy(api_url), server, settings.prefect_startup_timeout)
        marker.write_text(api_url)
        supervisor.marker = marker
        supervisor.start("定时部署", [*zwgk, "serve"], prefect_home / "serve.log", env)
        supervisor.wait_for(
            lambda: answers(f"http://127.0.0.1:{web_port}/health"), web, STARTUP_TIMEOUT
        )
        if capture is not None:
            port_ = settings.mail_capture_port
            supervisor.wait_for(lambda: _port_open(port_), capture, STARTUP_TIMEOUT)
            mail_note = f"本地邮件捕获 127.0.0.1:{port_}，邮件保存在 {settings.mail_dir}/"
        else:
            mail_note = f"邮件发往 {settings.smtp_host}:{settings.effective_smtp_port}"
        print(f"Prefect 界面：http://127.0.0.1:{port}", flush=True)
        print(
            f"填报网页：http://127.0.0.1:{web_port}（邮件链接前缀 {settings.web_base_url}）",
            flush=True,
        )
        print(
            f"政务公开工作台：http://127.0.0.1:{web_port}/admin/（账号用 zwgk users add 新建）",
            flush=True,
        )
        print(f"邮件：{mail_note}", flush=True)
        print(f"应用数据库：{settings.db_url}", flush=True)
        print(f"日志：{prefect_home}/server.log、serve.log，{var / 'log'}/", flush=True)
        print("正在提供全部事项的定时部署（Ctrl-C 停止全部服务）……", flush=True)
        started = True
        supervisor.watch()
        return 0  # pragma: no cover - watch() only ends by raising
    except _StopRequested:
        supervisor.stop_all()
        _say("已全部停止。")
        return 130 if supervisor.signal == signal.SIGINT else 0
    except _ChildExited as exc:
        failed = exc.child
        if started:
            _say(
                f"{failed.label}意外退出（{failed.how()}，详情见 {failed.log_path}），"
                "正在停止其余服务……",
                fd=2,
            )
        supervisor.stop_all()
        if started:
            _say("已全部停止。", fd=2)
            return 1
        raise UserError(
            f"{failed.label}启动失败（{failed.how()}），详情见 {failed.log_path}；其余服务已停止",
            exit_code=1,
        ) from None
    except _NotReady as exc:
        supervisor.stop_all()
        raise UserError(
            f"{exc.child.label}在 {exc.timeout:g} 秒内未就绪，详情见 {exc.child.log_path}；"
            "其余服务已停止",
            exit_code=1,
        ) from None
    except BaseException:
        supervisor.stop_all()
        raise
    finally:
        marker.unlink(missing_ok=True)
