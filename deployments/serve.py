"""Serve every obligation's deployment from this process (``zwgk serve``)."""

from __future__ import annotations

from prefect import serve
from prefect.schedules import Cron

from zwgk.deployments.spec import specs
from zwgk.workflows.flows import FLOWS, outbox, reminders

EXTRA_FLOWS = {"reminders": reminders, "outbox": outbox}


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


def serve_all() -> None:
    serve(*build_deployments())
