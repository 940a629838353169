"""``zwgk up`` stops everything it started: on Ctrl-C (SIGINT to the whole process group, as
a terminal sends it), on SIGTERM, when one of its services dies, and when a service cannot
start. Real process trees through the installed ``zwgk``, each on free ports and its own
``var/``; a process counts as gone once it has exited (a zombie waiting for init included)."""

from __future__ import annotations

import http.server
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from deployments.spec import specs
from tests.smtpd import free_port

ZWGK = str(Path(sys.executable).parent / "zwgk")
STARTUP = 240.0  # a cold Prefect home on two busy cores
STOP = 28.0  # the supervisor gives each stage 12 s at most; it usually needs 2–6 s


@dataclass
class Up:
    proc: subprocess.Popen[str]
    var: Path
    port: int
    web_port: int
    capture_port: int

    def children(self) -> dict[str, int]:
        """The supervisor's children by what they run: server, web, capture, serve."""
        found = {}
        for pid in _descendants(self.proc.pid):
            cmd = _cmdline(pid)
            for key, needle in (
                ("server", "prefect server start"),
                ("web", "zwgk.cli web"),
                ("capture", "zwgk.cli mail capture"),
                ("serve", "zwgk.cli serve"),
            ):
                if needle in cmd:
                    found[key] = pid
        return found

    def tree(self) -> set[int]:
        return {self.proc.pid, *_descendants(self.proc.pid)}

    def output(self, timeout: float = STOP) -> str:
        out, _ = self.proc.communicate(timeout=timeout)
        return out

    def wait_serving(self) -> None:
        """Until the API and the web page answer and the deployments are being served."""
        deadline = time.monotonic() + STARTUP
        serve_log = self.var / "prefect" / "serve.log"
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.output()
            if (
                _answers(f"http://127.0.0.1:{self.port}/api/health")
                and _answers(f"http://127.0.0.1:{self.web_port}/health")
                and serve_log.exists()
                and f"正在提供 {len(specs())} 个定时部署" in serve_log.read_text()
            ):
                return
            time.sleep(0.5)
        pytest.fail(f"zwgk up not serving within {STARTUP:g} s")


@pytest.fixture
def up(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Up]:
    """`zwgk up` started as `make run` starts it: the leader of its own process group.
    Parametrised with True (indirect), it inherits SIGINT ignored, as a job a script puts in
    the background (`setsid make run &`) does."""
    sigint_ignored = bool(getattr(request, "param", False))
    var = tmp_path / "var"
    port, web_port, capture_port = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZWGK_", "PREFECT_"))}
    env.update(
        ZWGK_VAR_DIR=str(var),
        ZWGK_MAIL_CAPTURE_PORT=str(capture_port),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        # The scheduler's first pass comes within seconds, not Prefect's default minute.
        PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="2",
    )
    proc = subprocess.Popen(
        [ZWGK, "up", "--port", str(port), "--web-port", str(web_port)],
        env=env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
        if sigint_ignored
        else None,
    )
    u = Up(proc, var, port, web_port, capture_port)
    try:
        yield u
    finally:
        for pid in _processes_mentioning(str(var)) | u.tree():  # whatever a failure left
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if proc.poll() is None:
            proc.kill()
        try:
            proc.communicate(timeout=10)
        except (ValueError, subprocess.TimeoutExpired):
            pass


def assert_all_gone(u: Up, tree: set[int], within: float = STOP) -> None:
    left = _wait_gone(tree, within)
    assert not left, {pid: _cmdline(pid) for pid in left}
    assert not _processes_mentioning(str(u.var))  # nothing that escaped the tree either
    for p in (u.port, u.web_port, u.capture_port):
        assert not _listening(p), p
    assert not (u.var / "prefect_api_url").exists()


@pytest.mark.prefect
@pytest.mark.parametrize("up", [True], indirect=True)
def test_ctrl_c_in_the_terminal_stops_every_process_in_seconds(up: Up) -> None:
    """Also when started from a script in the background, which leaves SIGINT ignored: a
    deliberate SIGINT to the group still stops everything."""
    up.wait_serving()
    tree = up.tree()
    assert set(up.children()) == {"server", "web", "capture", "serve"}
    # The served schedules fire: Prefect's scheduler puts their next runs on the server
    # (it cannot with SQLAlchemy 2.1 under Prefect 3.8: pinned below 2.1).
    assert _scheduled_runs(up.port, within=30) > 0, (up.var / "prefect" / "server.log").read_text()[
        -3000:
    ]
    started = time.monotonic()
    os.killpg(up.proc.pid, signal.SIGINT)  # what Ctrl-C does: the whole foreground group
    assert_all_gone(up, tree)
    took = time.monotonic() - started
    out = up.output()
    assert up.proc.returncode == 130, out
    assert "Traceback" not in out
    tail = out[out.index("正在提供全部事项的定时部署") :].splitlines()[1:]
    assert tail == [
        "正在停止 zwgk（Prefect 服务器、填报网页、邮件捕获、定时部署）……",
        "已全部停止。",
    ]
    assert took < STOP
    # The runner stopped while the API still answered: schedules paused, no retries.
    serve_log = (up.var / "prefect" / "serve.log").read_text()
    assert "All deployments have been paused" in serve_log and "定时部署已停止。" in serve_log
    assert "Traceback" not in serve_log


@pytest.mark.prefect
def test_a_prefect_server_that_dies_is_named_and_the_rest_are_stopped(up: Up) -> None:
    """The failure behind the old hang: the API gone under the deployments' runner."""
    up.wait_serving()
    tree = up.tree()
    os.kill(up.children()["server"], signal.SIGKILL)
    assert_all_gone(up, tree)
    out = up.output()
    assert up.proc.returncode == 1, out
    assert "Traceback" not in out
    server_log = up.var / "prefect" / "server.log"
    assert out.splitlines()[-2:] == [
        f"Prefect 服务器意外退出（被信号 SIGKILL 终止，详情见 {server_log}），正在停止其余服务……",
        "已全部停止。",
    ]
    # The runner did not try to pause its schedules against the dead API.
    serve_log = (up.var / "prefect" / "serve.log").read_text()
    assert "定时部署已停止。" in serve_log and "Pausing" not in serve_log


@pytest.mark.prefect
def test_sigterm_to_the_supervisor_alone_stops_everything_and_exits_0(up: Up) -> None:
    up.wait_serving()
    tree = up.tree()
    up.proc.send_signal(signal.SIGTERM)
    assert_all_gone(up, tree)
    out = up.output()
    assert up.proc.returncode == 0, out
    assert "Traceback" not in out
    assert out.splitlines()[-1] == "已全部停止。"


def test_a_second_ctrl_c_kills_at_once(up: Up) -> None:
    """While starting up, with the web page hanging (stopped): the first Ctrl-C waits for
    it, the second kills everything at once."""
    deadline = time.monotonic() + 60
    while len(up.children()) < 3:
        assert time.monotonic() < deadline and up.proc.poll() is None, up.output()
        time.sleep(0.1)
    tree = up.tree()
    os.kill(up.children()["web"], signal.SIGSTOP)  # deaf to SIGTERM until killed
    os.killpg(up.proc.pid, signal.SIGINT)
    time.sleep(1)
    assert _alive(up.proc.pid)
    started = time.monotonic()
    os.killpg(up.proc.pid, signal.SIGINT)
    assert_all_gone(up, tree, within=3)
    assert time.monotonic() - started < 3
    out = up.output()
    assert up.proc.returncode == 130, out
    assert "Traceback" not in out
    assert out.splitlines()[-2:] == [
        "正在停止 zwgk（Prefect 服务器、填报网页、邮件捕获）……",
        "已强制停止。",
    ]


def test_a_capture_server_that_dies_while_starting_is_one_message(up: Up) -> None:
    deadline = time.monotonic() + 60
    while not _listening(up.capture_port):
        assert time.monotonic() < deadline and up.proc.poll() is None, up.output()
        time.sleep(0.1)
    tree = up.tree()
    os.kill(up.children()["capture"], signal.SIGKILL)
    assert_all_gone(up, tree)
    out = up.output()
    assert up.proc.returncode == 1, out
    assert "Traceback" not in out
    log = up.var / "log" / "mail-capture.log"
    last = out.strip().splitlines()[-1]
    assert last in (  # the server may have come up meanwhile (a fast machine)
        f"错误：邮件捕获启动失败（被信号 SIGKILL 终止），详情见 {log}；其余服务已停止",
        "已全部停止。",
    ), out


def test_a_taken_port_is_one_message_and_nothing_starts(tmp_path: Path) -> None:
    var = tmp_path / "var"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        web_port = taken.getsockname()[1]
        r = _zwgk_up(var, free_port(), web_port, env={}, timeout=60)
    assert r.returncode != 0 and "Traceback" not in r.stdout + r.stderr
    assert r.stderr.strip().startswith(f"错误：端口 {web_port} 已被占用：zwgk 是否已在运行？")
    assert not (var / "prefect" / "server.log").exists()  # nothing started
    assert not (var / "log").exists()


def test_a_prefect_server_that_will_not_start_is_one_message_naming_its_log(
    tmp_path: Path,
) -> None:
    var = tmp_path / "var"
    port, web_port = free_port(), free_port()
    bad = {"PREFECT_SERVER_DATABASE_CONNECTION_URL": "nonsense://nowhere"}
    r = _zwgk_up(var, port, web_port, env=bad, timeout=120)
    assert r.returncode == 1 and "Traceback" not in r.stdout + r.stderr
    log = var / "prefect" / "server.log"
    assert r.stderr.strip() == (
        f"错误：Prefect 服务器启动失败（退出码 1），详情见 {log}；其余服务已停止"
    )
    assert "nonsense" in log.read_text()  # the log has the cause
    assert not _processes_mentioning(str(var))
    assert not _listening(web_port)


def test_zwgk_serve_against_a_server_gone_while_it_registers_is_one_message(
    tmp_path: Path,
) -> None:
    """A Prefect API that answers its health check, then is gone at the first real call
    (as when the server dies while ``zwgk serve`` starts): one Chinese line, exit 1."""
    calls: list[str] = []

    class Vanishing(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.endswith("/health"):
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"true")
            else:
                self._gone()

        def do_POST(self) -> None:
            self._gone()

        def _gone(self) -> None:
            calls.append(f"{self.command} {self.path}")
            self.close_connection = True  # no answer, and no server after this
            threading.Thread(target=lambda: (server.shutdown(), server.server_close())).start()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Vanishing)
    api = f"http://127.0.0.1:{server.server_address[1]}/api"
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ZWGK_", "PREFECT_"))}
    try:
        r = subprocess.run(
            [ZWGK, "serve"],
            env={**base, "ZWGK_VAR_DIR": str(tmp_path / "var"), "PREFECT_API_URL": api},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
    assert calls, r.stdout + r.stderr  # it did get past the health check
    assert r.returncode == 1 and "Traceback" not in r.stdout + r.stderr, r.stdout + r.stderr
    assert r.stderr.strip().splitlines()[-1] == (
        f"错误：Prefect 服务器 {api} 已无法连接，定时部署已停止。"
    )


# --------------------------------------------------------------------------- helpers


def _zwgk_up(
    var: Path, port: int, web_port: int, env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ZWGK_", "PREFECT_"))}
    return subprocess.run(
        [ZWGK, "up", "--port", str(port), "--web-port", str(web_port)],
        env={
            **base,
            "ZWGK_VAR_DIR": str(var),
            "ZWGK_MAIL_CAPTURE_PORT": str(free_port()),
            **env,
        },
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _scheduled_runs(port: int, within: float) -> int:
    """How many flow runs the Prefect server holds as Scheduled, once there are any."""
    import json
    import urllib.request

    body = json.dumps({"flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}}}).encode()
    deadline = time.monotonic() + within
    n = 0
    while time.monotonic() < deadline:
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/flow_runs/count",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=5) as resp:
            n = int(json.load(resp))
        if n:
            return n
        time.sleep(1)
    return n


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process, None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], int(fields[1])


def _alive(pid: int) -> bool:
    st = _stat(pid)
    return st is not None and st[0] not in ("Z", "X")


def _descendants(root: int) -> set[int]:
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (st := _stat(int(entry))) is not None:
            parents[int(entry)] = st[1]
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier} - found
        found |= frontier
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _processes_mentioning(text: str) -> set[int]:
    """Live processes whose environment or arguments mention ``text`` (our var dir)."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            blob = Path(f"/proc/{entry}/environ").read_bytes()
            blob += Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if text.encode() in blob and _alive(int(entry)):
            found.add(int(entry))
    return found


def _wait_gone(pids: set[int], within: float) -> set[int]:
    deadline = time.monotonic() + within
    while (left := {p for p in pids if _alive(p)}) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left
