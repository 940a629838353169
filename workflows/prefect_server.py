"""The Prefect server already running, and flow runs of its deployments (no server started).

Used by the workbench (``zwgk.web``) to trigger an obligation's deployment and follow its
run, and by ``deployments`` (``zwgk run``, ``zwgk up``, ``zwgk serve``) to find the server.
Both may import this module; neither may import the other (import-linter's layers).

The server, in order: ``PREFECT_API_URL`` when set (a production server, or the test
harness), else the one ``make run`` / ``zwgk up`` started from this folder, named in
``var/prefect_api_url``; either only when its health check answers. Nothing here starts a
temporary server: a page cannot wait half a minute for one, and its runs would not be
picked up by anyone (``zwgk serve`` runs the deployments).
"""

from __future__ import annotations

import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from workflows.obligation import Obligation
from zwgk.config import Settings

MARKER = "prefect_api_url"  # var/prefect_api_url: the API of the server `zwgk up` runs

# How a run's state reads to the office (Prefect's state types and a few state names).
STATE_LABELS = {
    "SCHEDULED": "已排队",
    "PENDING": "准备运行",
    "RUNNING": "运行中",
    "COMPLETED": "已完成",
    "FAILED": "失败",
    "CANCELLED": "已取消",
    "CANCELLING": "正在取消",
    "CRASHED": "异常中止",
    "PAUSED": "已暂停",
}
STATE_NAME_LABELS = {
    "Late": "已排队（超时未开始：定时部署是否在运行？）",
    "AwaitingRetry": "等待重试",
    "Retrying": "重试中",
}
FINAL_STATES = {"COMPLETED", "FAILED", "CANCELLED", "CRASHED"}


class ServerUnavailable(Exception):
    """No Prefect server answers (or it stopped answering mid-request)."""


class DeploymentMissing(Exception):
    """The server answers but has no deployment of this obligation (not served yet)."""


def answers(url: str, timeout: float = 2) -> bool:
    """True when ``url`` answers 200 (a health endpoint)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return bool(resp.status == 200)
    except (OSError, ValueError):
        return False


def healthy(api_url: str, timeout: float = 2) -> bool:
    """True when the Prefect API at ``api_url`` answers its health check."""
    return bool(api_url) and answers(api_url.rstrip("/") + "/health", timeout)


def local_server(settings: Settings) -> str | None:
    """The API URL of the server ``zwgk up`` runs from this folder, if it answers."""
    marker = settings.var_dir / MARKER
    try:
        url = marker.read_text().strip()
    except OSError:
        return None
    return url if url and healthy(url) else None


def configured_api_url() -> str | None:
    """``PREFECT_API_URL`` as Prefect's settings have it (environment, profile, harness)."""
    from prefect.settings import PREFECT_API_URL

    value = PREFECT_API_URL.value()
    return str(value) if value else None


def running_server(settings: Settings) -> str:
    """The API URL of a Prefect server that answers now; ``ServerUnavailable`` otherwise."""
    configured = configured_api_url()
    if configured:
        if healthy(configured, timeout=3):
            return configured
        raise ServerUnavailable(configured)
    url = local_server(settings)
    if url is None:
        raise ServerUnavailable("")
    return url


def ui_url(api_url: str) -> str:
    """The Prefect UI beside an API: ``PREFECT_UI_URL`` for the configured server when set,
    else the API's address without its ``/api``."""
    from prefect.settings import PREFECT_UI_URL

    if api_url == configured_api_url():
        configured_ui = PREFECT_UI_URL.value()
        if configured_ui:
            return str(configured_ui).rstrip("/")
    base = api_url.rstrip("/")
    return base[: -len("/api")] if base.endswith("/api") else base


def deployment_name(ob: Obligation) -> str:
    """``flow/deployment`` as ``zwgk serve`` and ``prefect.yaml`` register it."""
    return f"{ob.flow_name}/{ob.slug}"


def run_name(flow: str, period: object = None, default: str = "scheduled") -> str:
    """A flow run's name, as the flows name their runs and the workbench names the runs it
    starts: the flow and the period (or day) it runs for, ``monthly-filing 2026-11``,
    ``reminders 2026-11-30``; ``default`` when a run was given none (a scheduled one)."""
    return f"{flow} {period or default}"


@dataclass(frozen=True)
class RunView:
    """A flow run as the workbench shows it."""

    id: str
    name: str
    state_type: str  # Prefect's StateType value: SCHEDULED, RUNNING, COMPLETED, …
    state_name: str
    message: str
    parameters: dict[str, Any] = field(default_factory=dict)
    expected_start: datetime | None = None
    start: datetime | None = None
    end: datetime | None = None
    tags: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return STATE_NAME_LABELS.get(self.state_name) or STATE_LABELS.get(
            self.state_type, self.state_name or "未知"
        )

    @property
    def final(self) -> bool:
        return self.state_type in FINAL_STATES


def _view(run: Any) -> RunView:
    state = run.state
    return RunView(
        id=str(run.id),
        name=run.name or "",
        state_type=state.type.value if state is not None else "",
        state_name=(state.name or "") if state is not None else "",
        message=(state.message or "") if state is not None else "",
        parameters=dict(run.parameters or {}),
        expected_start=run.expected_start_time,
        start=run.start_time,
        end=run.end_time,
        tags=tuple(run.tags or ()),
    )


def _client(api_url: str) -> Any:
    from prefect.client.orchestration import SyncPrefectClient

    # A page waits for this: no minute of retries against a server that has gone away.
    return SyncPrefectClient(api_url, httpx_settings={"timeout": 10})


def _unavailable(exc: BaseException) -> bool:
    import httpx

    return isinstance(exc, httpx.TransportError)


def trigger(
    api_url: str,
    deployment: str,
    *,
    parameters: dict[str, Any],
    idempotency_key: str,
    tags: list[str],
    name: str | None = None,
) -> RunView:
    """Create a flow run of ``deployment`` ("flow/name", e.g. :func:`deployment_name`), Scheduled
    now (``zwgk serve`` picks it up).

    The same ``idempotency_key`` for the same deployment returns the run made the first time
    instead of a second one (Prefect's own rule): a form submitted twice starts one run.
    """
    from prefect.exceptions import ObjectNotFound

    try:
        with _client(api_url) as client:
            try:
                found = client.read_deployment_by_name(deployment)
            except ObjectNotFound:
                raise DeploymentMissing(deployment) from None
            run = client.create_flow_run_from_deployment(
                found.id,
                parameters=parameters,
                tags=tags,
                idempotency_key=idempotency_key,
                name=name,
            )
    except Exception as exc:
        if _unavailable(exc):
            raise ServerUnavailable(api_url) from exc
        raise
    return _view(run)


def read_runs(api_url: str, ids: list[str]) -> dict[str, RunView]:
    """The runs among ``ids`` the server knows, by id (a run deleted there is left out)."""
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    wanted = []
    for i in ids:
        try:
            wanted.append(UUID(i))
        except ValueError:
            continue
    if not wanted:
        return {}
    try:
        with _client(api_url) as client:
            runs = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=wanted)),
                limit=len(wanted),
            )
    except Exception as exc:
        if _unavailable(exc):
            raise ServerUnavailable(api_url) from exc
        raise
    return {str(r.id): _view(r) for r in runs}
