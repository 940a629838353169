"""Smoke test of the city benchmark at a tiny scale: every stage runs, real code and floor
reach the same end state with the right row counts. No timing is asserted (the benchmark
is a command: ``python -m bench.city``)."""

from __future__ import annotations

import pytest

from bench.city import STAGES, format_table, run
from bench.data import due_dates

pytestmark = pytest.mark.smtp


def test_tiny_city_runs_every_stage_with_correct_counts() -> None:
    districts, units, tasks = 2, 4, 3
    results = run(districts=districts, units=units, tasks=tasks, repeat=1, log=lambda _m: None)

    stages = results["stages"]
    assert tuple(stages) == STAGES
    items = districts * units * tasks
    mails = districts * units

    expansion = stages["expansion"]["state"]
    assert expansion["items"] == items
    assert expansion["outbox"] == {"assignment/pending": mails}
    assert expansion["reminder_log"] == 0

    # Every item reaches a rung on the sweep's day: one digest per unit, one sent log row
    # per item; the earlier rungs passed over are logged as skipped. Each district's office
    # gets one overdue summary (各单位: every unit a lead, so no lead summaries).
    sweep = stages["sweep"]["state"]
    digests = sum(
        v for k, v in sweep["outbox"].items() if k.split("/")[0] in ("reminder", "escalation")
    )
    assert digests == mails
    assert sweep["outbox"]["overdue-summary/pending"] == districts
    assert "lead-summary/pending" not in sweep["outbox"]
    assert sweep["reminder_log"] - sweep["reminder_log_skipped"] == items
    assert sweep["reminder_log_skipped"] > 0
    assert len(due_dates(tasks)) == tasks

    dispatch = stages["dispatch"]
    assert dispatch["mails_received"] == mails
    assert dispatch["state"]["outbox"] == {"assignment/sent": mails}

    for stage in stages.values():
        assert stage["ours_seconds"] > 0 and stage["floor_seconds"] > 0
        assert stage["ours_peak_mb"] > 0
    table = format_table(results)
    for stage in STAGES:
        assert stage in table
