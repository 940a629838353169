"""What a newcomer meets first, through the installed ``zwgk`` command as real processes:
mistyped commands, a first run with no Prefect server on a cold Prefect home, a server
that cannot start or cannot be reached, and reuse of the server ``zwgk up`` runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli import Result
from tests.smtpd import SMTPServer, free_port

ZWGK = str(Path(sys.executable).parent / "zwgk")


def zwgk(*args: str, env: dict[str, str], timeout: float = 300) -> Result:
    """The installed command, as a user's shell runs it (no PREFECT_API_URL unless given)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ZWGK_", "PREFECT_"))}
    proc = subprocess.run(
        [ZWGK, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**base, **env},
        stdin=subprocess.DEVNULL,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def user_env(tmp_path: Path, database_url: str | None, smtp: SMTPServer) -> dict[str, str]:
    env = {
        "ZWGK_VAR_DIR": str(tmp_path / "var"),
        "ZWGK_SMTP_HOST": "127.0.0.1",
        "ZWGK_SMTP_PORT": str(smtp.port),
        "ZWGK_SMTP_SECURITY": "none",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    if database_url:
        env["ZWGK_DATABASE_URL"] = database_url
    return env


def assert_usage_error(r: Result, usage: str, sentence: str) -> None:
    assert r.code == 2, (r.code, r.err)
    assert "Traceback" not in r.out + r.err
    assert "Error:" not in r.err  # click's English line
    lines = r.err.strip().splitlines()
    assert lines[0].startswith(f"用法：{usage}"), r.err
    assert lines[1] == f"错误：{sentence}", r.err
    assert lines[2].endswith("--help 查看说明。")


@pytest.mark.parametrize(
    ("args", "usage", "sentence"),
    [
        (["nosuch"], "zwgk [OPTIONS] COMMAND", "没有命令「nosuch」。"),
        (["status", "--foo"], "zwgk status", "没有选项「--foo」。"),
        (
            ["status", "--obligatio", "x"],
            "zwgk status",
            "没有选项「--obligatio」，是否为「--obligation」？",
        ),
        (["run"], "zwgk run", "缺少参数 SLUG。"),
        (["complete", "abc", "--evidence", "https://a.example.cn/x"], "zwgk complete", ""),
        (["calendar", "add-workdays", "2026-11-02", "三"], "zwgk calendar add-workdays", ""),
        (["run", "monthly-filing", "--period"], "", "选项 --period 后面需要一个值。"),
        (["waive", "1", "2"], "zwgk waive", "多余的参数「2」。"),
    ],
)
def test_usage_errors_are_a_usage_line_and_one_chinese_sentence(
    args: list[str], usage: str, sentence: str, tmp_path: Path
) -> None:
    r = zwgk(*args, env={"ZWGK_VAR_DIR": str(tmp_path / "var")}, timeout=60)
    if args[0] in ("complete", "calendar"):  # a value of the wrong type
        name = "ITEM_ID" if args[0] == "complete" else "N"
        sentence = f"{name} 的值无效：应为整数。"
    if not usage:  # click reports a missing option value without a usage line
        assert r.code == 2 and "Traceback" not in r.err and r.err.strip() == f"错误：{sentence}"
        return
    assert_usage_error(r, usage, sentence)
    assert not (tmp_path / "var" / "zwgk.db").exists()  # nothing ran


def test_a_group_without_a_command_shows_its_help(tmp_path: Path) -> None:
    r = zwgk("units", env={"ZWGK_VAR_DIR": str(tmp_path / "var")}, timeout=60)
    assert "Traceback" not in r.out + r.err
    assert "责任单位名录" in r.out + r.err and "import" in r.out + r.err


def test_a_cold_first_run_without_a_server_works_and_prints_no_traceback(
    user_env: dict[str, str], smtp: SMTPServer, tmp_path: Path
) -> None:
    """No PREFECT_API_URL, no `make run`, a Prefect home whose parents do not exist yet,
    Prefect at DEBUG: the run starts a temporary server, waits for it, runs, stops it."""
    home = tmp_path / "not" / "yet" / "prefect"
    env = {**user_env, "PREFECT_HOME": str(home), "PREFECT_LOGGING_LEVEL": "DEBUG"}
    assert zwgk("init", "--sample", env=env).code == 0
    r = zwgk("run", "monthly-filing", "--period", "2026-11", "--today", "2026-11-02", env=env)
    everything = r.out + r.err
    assert r.code == 0, everything[-3000:]
    for wrong in ("Traceback", "stopped service", "Error logging to API", "Timed out"):
        assert wrong not in everything, wrong
    assert "正在启动临时服务器" in r.err
    assert "新建事项 50 条" in r.out and "发送通知 50 封" in r.out
    assert len(smtp.messages) == 50
    assert (home / "temporary-server.log").exists()
    # The temporary server is gone with the command.
    assert "prefect server start" not in _processes_mentioning(str(home))


def _processes_mentioning(text: str) -> str:
    """Command lines of running processes whose environment or arguments mention ``text``."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if text.encode() in environ + cmdline:
            found.append(cmdline.decode(errors="replace"))
    return "\n".join(found).replace("-m prefect server start", "prefect server start")


def test_a_server_that_does_not_come_up_in_time_is_one_message_and_is_stopped(
    user_env: dict[str, str], tmp_path: Path
) -> None:
    home = tmp_path / "prefect"
    env = {**user_env, "PREFECT_HOME": str(home), "ZWGK_PREFECT_STARTUP_TIMEOUT": "1"}
    assert zwgk("init", "--sample", env=env).code == 0
    r = zwgk("run", "monthly-filing", "--period", "2026-11", env=env)
    assert r.code == 1 and "Traceback" not in r.out + r.err
    last = r.err.strip().splitlines()[-1]
    assert last.startswith("错误：临时 Prefect 服务器在 1 秒内未就绪"), r.err
    assert "ZWGK_PREFECT_STARTUP_TIMEOUT" in last and "make run" in last
    assert "prefect server start" not in _processes_mentioning(str(home))


def test_a_prefect_home_that_cannot_be_made_is_one_message(
    user_env: dict[str, str], tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    env = {**user_env, "PREFECT_HOME": str(blocker / "prefect")}
    assert zwgk("init", "--sample", env=env).code == 0
    r = zwgk("run", "monthly-filing", "--period", "2026-11", env=env)
    assert r.code == 1 and "Traceback" not in r.out + r.err
    assert r.err.strip() == (
        f"错误：无法创建 Prefect 工作目录 {blocker / 'prefect'}（Not a directory）："
        "请检查该目录的权限，或用环境变量 PREFECT_HOME 指定一个可写的目录"
    )


def test_an_unreachable_prefect_api_url_is_one_message(
    user_env: dict[str, str], tmp_path: Path
) -> None:
    url = f"http://127.0.0.1:{free_port()}/api"
    env = {**user_env, "PREFECT_API_URL": url, "PREFECT_HOME": str(tmp_path / "prefect")}
    assert zwgk("init", "--sample", env=env).code == 0
    r = zwgk("run", "monthly-filing", "--period", "2026-11", env=env)
    assert r.code == 1 and "Traceback" not in r.out + r.err
    assert r.err.strip().startswith(
        f"错误：无法连接 Prefect 服务器 {url}（环境变量 PREFECT_API_URL）"
    )
    r = zwgk("serve", env={**user_env, "PREFECT_HOME": str(tmp_path / "prefect")})
    assert r.code == 1 and "Traceback" not in r.out + r.err
    assert r.err.strip().startswith("错误：没有运行中的 Prefect 服务器：定时部署需要它按时触发")


@pytest.mark.prefect
def test_a_second_terminal_uses_the_server_zwgk_up_runs(
    prefect_harness: None, user_env: dict[str, str], smtp: SMTPServer, tmp_path: Path
) -> None:
    """`zwgk up` leaves var/prefect_api_url; a run from another terminal uses that server
    (here the harness's) instead of starting a temporary one, and its runs are there."""
    from prefect.settings import PREFECT_API_URL

    url = str(PREFECT_API_URL.value())
    var = Path(user_env["ZWGK_VAR_DIR"])
    var.mkdir(parents=True)
    (var / "prefect_api_url").write_text(url)
    env = {**user_env, "PREFECT_HOME": str(tmp_path / "prefect")}
    assert zwgk("init", "--sample", env=env).code == 0
    r = zwgk("run", "monthly-filing", "--period", "2026-11", "--today", "2026-11-02", env=env)
    assert r.code == 0, r.err[-2000:]
    assert "临时服务器" not in r.err and "Traceback" not in r.out + r.err
    assert len(smtp.messages) == 50
    import httpx

    runs = httpx.post(f"{url}/flow_runs/filter", json={"limit": 200}).json()
    assert any(run["name"] == "monthly-filing 2026-11" for run in runs)
