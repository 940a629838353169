"""Serve every obligation's deployment from this process (``zwgk serve``).

Prefect's own ``serve()`` does not stop cleanly (Prefect 3.8.8): after one SIGINT (asyncio's
handler cancels the main task) the runner keeps polling, no shutdown begun 20 s later; its
SIGTERM handler calls the synchronous ``Runner.stop()`` from inside the running loop, which
only creates an un-awaited coroutine (a RuntimeWarning on the console) before ``sys.exit``.

Here SIGINT and SIGTERM both ask the runner to stop through its async ``astop()``, in its
own loop: in-flight runs are cancelled, schedules paused (only while the API answers: a
client talking to a dead server retries each call for a minute), and the process exits 0.
A second Ctrl-C exits at once.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING, Any

from prefect.schedules import Cron

from deployments.prefect_api import prefect_api
from deployments.spec import specs
from workflows.flows import FLOWS, bulletin, outbox, reminders
from workflows.prefect_server import healthy
from zwgk.config import Settings
from zwgk.errors import UserError

if TYPE_CHECKING:
    from prefect.runner import Runner

EXTRA_FLOWS: dict[str, Any] = {"reminders": reminders, "outbox": outbox, "bulletin": bulletin}


def build_deployments() -> list:  # type: ignore[type-arg]
    result = []
    for s in specs():
        result.append(
            (EXTRA_FLOWS.get(s.name) or FLOWS[s.name]).to_deployment(
                name=s.name,
                schedules=[Cron(s.cron, timezone=s.timezone)],
                description=s.description,
                tags=["zwgk"],
                concurrency_limit=1,
            )
        )
    return result


def serve_registered(settings: Settings) -> None:
    """Serve every deployment on the running Prefect server (``zwgk serve``, ``python -m
    deployments``); with none running, a ``UserError`` that says how to start one."""
    with prefect_api(settings, temporary=False):
        serve_all()


def serve_all() -> None:
    """Register every deployment and poll for its scheduled runs until SIGINT or SIGTERM."""
    # Prefect's runner is heavy and reads its home on import: loaded when serving starts.
    from prefect.exceptions import TerminationSignal
    from prefect.runner import Runner
    from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL

    api_url = str(PREFECT_API_URL.value() or "")
    deployments = build_deployments()
    runner = Runner(pause_on_shutdown=True)
    with _said_if_the_server_is_gone(api_url):
        for deployment in deployments:
            runner.add_deployment(deployment)
    names = "、".join(d.name for d in deployments)
    ui = PREFECT_UI_URL.value()
    print(
        f"正在提供 {len(deployments)} 个定时部署：{names}"
        + (f"（Prefect 界面 {ui}/deployments）" if ui else "")
        + "。Ctrl-C 停止。",
        flush=True,
    )
    previous = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    try:
        with _said_if_the_server_is_gone(api_url):
            asyncio.run(_run_until_signalled(runner, api_url))
    except (KeyboardInterrupt, TerminationSignal):  # a signal before our handlers are in
        pass
    finally:
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGTERM, previous[1])
    print("定时部署已停止。", flush=True)


@contextmanager
def _said_if_the_server_is_gone(api_url: str) -> Iterator[None]:
    """A Prefect server gone under the runner (registering the deployments, or Prefect 3.9's
    runner failing its start or its event stream with an English ``RuntimeError``) ends the
    command with one Chinese line, not a traceback."""
    try:
        yield
    except Exception:
        if healthy(api_url):
            raise
        raise UserError(
            f"Prefect 服务器 {api_url} 已无法连接，定时部署已停止。", exit_code=1
        ) from None


async def _run_until_signalled(runner: Runner, api_url: str) -> None:
    loop = asyncio.get_running_loop()
    requested: list[int] = []
    stopping: list[asyncio.Task[None]] = []

    async def stop() -> None:
        # Pausing schedules calls the API once per deployment; against a server that is
        # gone, each call retries with back-off for a minute. Skip it then.
        if not await asyncio.to_thread(healthy, api_url):
            runner.pause_on_shutdown = False
        while not runner.started and not started.done():  # a signal while starting up
            await asyncio.sleep(0.1)
        if runner.started:
            await runner.astop()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if requested:
            if signum == signal.SIGINT:  # a second Ctrl-C: no more waiting
                os.write(2, "已强制停止定时部署。\n".encode())
                os._exit(130)
            return
        requested.append(signum)
        # Python runs this handler in the loop's thread between two bytecodes, maybe while
        # the loop waits in select(): hand over through the loop's self-pipe.
        loop.call_soon_threadsafe(lambda: stopping.append(loop.create_task(stop())))

    # Installed before the runner starts: asyncio.run() then leaves SIGINT alone, and the
    # runner's own SIGTERM handler is replaced by ours (``Runner.start`` looks it up by name).
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    runner.handle_sigterm = on_signal  # type: ignore[method-assign,assignment]
    started = asyncio.create_task(runner.start())
    await started
    for task in stopping:
        await task
