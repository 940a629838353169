"""One deployment per registered obligation, derived from the registry.

``prefect.yaml`` at the repository root holds the same deployments for ``prefect deploy``
(work-pool set-ups); ``tests/test_registry.py`` checks the two never drift apart, and
``python -m deployments.spec`` prints the YAML the registry implies.
"""

from __future__ import annotations

from dataclasses import dataclass

from workflows.registry import REGISTRY
from zwgk.config import SHANGHAI

ENTRYPOINT_FILE = "workflows/flows.py"


@dataclass(frozen=True)
class DeploymentSpec:
    name: str
    flow_name: str
    entrypoint: str
    cron: str
    timezone: str
    description: str


REMINDERS = DeploymentSpec(
    name="reminders",
    flow_name="reminders",
    entrypoint=f"{ENTRYPOINT_FILE}:reminders",
    cron="0 9 * * *",
    timezone=SHANGHAI,
    description="催办（每天 09:00；非工作日不发送）",
)


OUTBOX = DeploymentSpec(
    name="outbox",
    flow_name="outbox",
    entrypoint=f"{ENTRYPOINT_FILE}:outbox",
    cron="*/30 7-20 * * *",
    timezone=SHANGHAI,
    description="发件箱补发（07:00–20:59 每 30 分钟；暂未发出的邮件按退避时间重试）",
)


def specs() -> list[DeploymentSpec]:
    return [
        DeploymentSpec(
            name=ob.slug,
            flow_name=ob.flow_name,
            entrypoint=f"{ENTRYPOINT_FILE}:{ob.func_name}",
            cron=ob.cron,
            timezone=SHANGHAI,
            description=f"{ob.title}（{ob.schedule_note}）",
        )
        for ob in REGISTRY.values()
    ] + [REMINDERS, OUTBOX]


def render_yaml() -> str:
    """The ``deployments:`` section of prefect.yaml, as the registry implies it."""
    lines = ["deployments:"]
    for s in specs():
        lines += [
            f"  - name: {s.name}",
            f"    entrypoint: {s.entrypoint}",
            f'    description: "{s.description}"',
            "    tags: *tags",
            "    concurrency_limit: 1",
            "    work_pool: *work_pool",
            "    schedules:",
            f'      - cron: "{s.cron}"',
            f"        timezone: {s.timezone}",
            "        active: true",
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render_yaml(), end="")
