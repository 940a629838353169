"""``zwgk up`` / ``make run``: everything on embedded defaults, in one terminal.

Starts a local Prefect server (Prefect's own database under ``var/prefect/``, apart from
the app database), the SMTP capture server when no real SMTP host is configured, and
serves every obligation deployment. Prefect's temporary server (started when no
``PREFECT_API_URL`` is set) never runs schedules, hence a real ``prefect server start``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request

from zwgk.config import get_settings
from zwgk.errors import UserError


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(
                f"Prefect 服务器启动失败（退出码 {proc.returncode}），请查看 var/prefect/server.log"
            )
        try:
            with urllib.request.urlopen(url + "/health", timeout=2):
                return
        except OSError:
            time.sleep(1)
    raise SystemExit("Prefect 服务器在 120 秒内未就绪，请查看 var/prefect/server.log")


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _start_web(host: str, port: int):  # type: ignore[no-untyped-def]
    """The completion web app in a background thread."""
    import threading

    import uvicorn

    from zwgk.web.app import create_app

    server = uvicorn.Server(uvicorn.Config(create_app(), host=host, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="zwgk-web", daemon=True)
    thread.start()
    return server


def run_local(port: int = 4200, web_port: int = 8000) -> None:
    settings = get_settings()
    busy = [p for p in (port, web_port) if not _port_free(p)]
    if settings.uses_capture and not _port_free(settings.mail_capture_port):
        busy.append(settings.mail_capture_port)
    if busy:
        raise UserError(
            f"端口 {'、'.join(map(str, busy))} 已被占用：zwgk 是否已在运行？"
            "请先停止它，或用 --port / ZWGK_MAIL_CAPTURE_PORT 换一个端口"
        )
    var = settings.var_dir.resolve()
    prefect_home = var / "prefect"
    prefect_home.mkdir(parents=True, exist_ok=True)
    api_url = f"http://127.0.0.1:{port}/api"
    env = {
        **os.environ,
        "PREFECT_HOME": str(prefect_home),
        "PREFECT_API_URL": api_url,
        "PREFECT_SERVER_API_HOST": "127.0.0.1",
        "PREFECT_SERVER_API_PORT": str(port),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    os.environ.update({k: env[k] for k in ("PREFECT_HOME", "PREFECT_API_URL")})

    log = open(prefect_home / "server.log", "ab")  # noqa: SIM115 - lives as long as the server
    server = subprocess.Popen(
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
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    capture = None
    web = None
    try:
        print(f"正在启动 Prefect 服务器（日志：{prefect_home / 'server.log'}）……", flush=True)
        _wait_healthy(api_url, server)
        (var / "prefect_api_url").write_text(api_url)
        if settings.uses_capture:
            from zwgk.notifications.capture import start_capture

            capture = start_capture(settings.mail_dir, port=settings.mail_capture_port)
            mail_note = f"本地邮件捕获 127.0.0.1:{settings.mail_capture_port}，邮件保存在 {settings.mail_dir}/"
        else:
            mail_note = f"邮件发往 {settings.smtp_host}:{settings.effective_smtp_port}"
        from zwgk.db import init_db

        init_db()
        web = _start_web("127.0.0.1", web_port)
        print(f"Prefect 界面：http://127.0.0.1:{port}", flush=True)
        print(
            f"填报网页：http://127.0.0.1:{web_port}（邮件链接前缀 {settings.web_base_url}）",
            flush=True,
        )
        print(f"邮件：{mail_note}", flush=True)
        print(f"应用数据库：{settings.db_url}", flush=True)
        print("正在提供全部事项的定时部署（Ctrl-C 退出）……", flush=True)
        from zwgk.deployments.serve import serve_all

        serve_all()
    except KeyboardInterrupt:
        pass
    finally:
        if web is not None:
            web.should_exit = True
        if capture is not None:
            capture.stop()
        (var / "prefect_api_url").unlink(missing_ok=True)
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
