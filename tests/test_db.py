"""``zwgk.db.transact`` runs the work again only when a concurrent run got to one of the
unique keys it names first; any other integrity error is a bug and is raised at once
(a real SQLite file, or PostgreSQL with ``--db postgresql``)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from models import ChecklistItem, Role, Unit
from zwgk.db import session_scope, transact, violated_unique_key


def _item(unit_id: int) -> ChecklistItem:
    return ChecklistItem(
        obligation="monthly-filing",
        period="2026-11",
        unit_id=unit_id,
        step="file",
        step_title="完成本月新增非密公文全量备案",
        role=Role.responsible,
        due=date(2026, 11, 25),
    )


def _unit_id(district: str) -> int:
    with session_scope() as s:
        unit = s.exec(select(Unit).where(Unit.district == district)).first()
        assert unit is not None and unit.id is not None
        return unit.id


def test_a_concurrent_run_that_wrote_the_item_first_means_one_more_pass(directory: str) -> None:
    unit_id = _unit_id(directory)
    passes = 0

    def build(session: Session) -> int:
        nonlocal passes
        passes += 1
        existing = session.exec(
            select(ChecklistItem).where(ChecklistItem.unit_id == unit_id)
        ).first()
        if existing is not None:
            return 0
        if passes == 1:  # the other run commits between our look and our insert
            with session_scope() as other:
                other.add(_item(unit_id))
        session.add(_item(unit_id))
        session.flush()
        return 1

    created = transact(build, collisions=("uq_item_key",), what="test")
    assert (passes, created) == (2, 0)
    with session_scope() as s:
        assert len(s.exec(select(ChecklistItem)).all()) == 1


def test_a_foreign_key_violation_is_raised_not_retried(directory: str) -> None:
    passes = 0

    def build(session: Session) -> None:
        nonlocal passes
        passes += 1
        session.add(_item(unit_id=999_999))  # no such unit
        session.flush()

    with pytest.raises(IntegrityError) as caught:
        transact(build, collisions=("uq_item_key", "uq_outbox_key"), what="test")
    assert passes == 1
    assert violated_unique_key(caught.value) is None


def test_another_unique_key_is_raised_not_retried(directory: str) -> None:
    passes = 0

    def add_unit(session: Session) -> None:
        nonlocal passes
        passes += 1
        session.add(Unit(district=directory, name="区教育局", kind="department", email="x@y.cn"))
        session.flush()

    with pytest.raises(IntegrityError) as caught:
        transact(add_unit, collisions=("uq_item_key", "uq_outbox_key"), what="test")
    assert passes == 1
    assert violated_unique_key(caught.value) == "uq_unit_district_name"


def test_a_collision_key_that_is_no_constraint_is_a_programming_error(env: object) -> None:
    with pytest.raises(ValueError, match="uq_item_kye"):
        transact(lambda s: None, collisions=("uq_item_kye",))
