"""One deployment per registered obligation, derived from the registry.

``prefect.yaml`` at the repository root holds the same deployments for ``prefect deploy``
(work-pool set-ups): ``zwgk deployments write`` rewrites its ``deployments:`` section from the
registry and keeps the hand-written part above it; ``tests/test_registry.py`` fails when the
file differs from what the command writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from workflows.registry import REGISTRY
from zwgk.config import SHANGHAI
from zwgk.errors import UserError

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


BULLETIN = DeploymentSpec(
    name="bulletin",
    flow_name="bulletin",
    entrypoint=f"{ENTRYPOINT_FILE}:bulletin",
    # Every morning of the 1st–12th: the flow mails on the month's first working day (after
    # 国庆 or 春节 as late as the 9th) and makes up a missed day; otherwise it does nothing.
    cron="0 9 1-12 * *",
    timezone=SHANGHAI,
    description="通报（每月第一个工作日 09:00 生成上月通报，发送区政府办公室并抄送领导）",
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
    ] + [BULLETIN, REMINDERS, OUTBOX]


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


SECTION = "deployments:"


def with_registry_deployments(text: str) -> str:
    """``text`` (a prefect.yaml) with its ``deployments:`` section, the last one, replaced by
    :func:`render_yaml`; everything before that line is kept byte for byte."""
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.rstrip("\r\n") == SECTION:
            return "".join(lines[:i]) + render_yaml()
    raise ValueError(f"no line {SECTION!r}")


@dataclass(frozen=True)
class Written:
    path: Path
    changed: bool
    count: int  # deployments in the section


def write_prefect_yaml(path: Path, *, check: bool = False) -> Written:
    """Rewrite ``path``'s deployments from the registry (or, with ``check``, only compare).

    The file is replaced whole (a temporary file beside it, then a rename) or left alone.
    Raises ``UserError`` naming the file when it cannot be read or has no ``deployments:``.
    """
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise UserError(
            f"找不到 {path}：请在项目根目录（prefect.yaml 所在目录）运行，或用 --file 指定"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"无法读取 {path}（{exc}）") from None
    try:
        wanted = with_registry_deployments(text)
    except ValueError:
        raise UserError(
            f"{path} 中没有单独一行的「{SECTION}」：部署一节应从该行开始，位于文件末尾"
        ) from None
    changed = wanted != text
    if changed and not check:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(wanted.encode("utf-8"))
        tmp.replace(path)
    return Written(path=path, changed=changed, count=len(specs()))
