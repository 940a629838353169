"""baseline: the schema before migrations existed

Databases created by earlier zwgk versions (``create_all``) are stamped at this revision.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 08:25:23.051171
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "holidayoverride",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )
    op.create_table(
        "plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("district", sa.String(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("issued", sa.Date(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("district", "year", name="uq_plan_district_year"),
    )
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_district"), ["district"], unique=False)

    op.create_table(
        "unit",
        sa.Column("district", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("office", "department", "street", "town", "park", name="unitkind"),
            nullable=False,
        ),
        sa.Column("email", sa.String(), nullable=False),
        sa.Column("contact", sa.String(), nullable=False),
        sa.Column("groups", sa.JSON(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("district", "name", name="uq_unit_district_name"),
    )
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_unit_district"), ["district"], unique=False)

    op.create_table(
        "annualfigure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("table", sa.String(), nullable=False),
        sa.Column("row", sa.String(), nullable=False),
        sa.Column("col", sa.String(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["unit.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("unit_id", "year", "table", "row", "col", name="uq_annual_figure"),
    )
    with op.batch_alter_table("annualfigure", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_annualfigure_unit_id"), ["unit_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_annualfigure_year"), ["year"], unique=False)

    op.create_table(
        "checklistitem",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("obligation", sa.String(), nullable=False),
        sa.Column("period", sa.String(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(), nullable=False),
        sa.Column("step_title", sa.String(), nullable=False),
        sa.Column(
            "role", sa.Enum("lead", "responsible", "cooperating", name="role"), nullable=False
        ),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("window_start", sa.Date(), nullable=True),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        sa.Column(
            "status", sa.Enum("pending", "done", "waived", name="itemstatus"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assigned_on", sa.Date(), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("on_time", sa.Boolean(), nullable=True),
        sa.Column("evidence", sa.String(), nullable=True),
        sa.Column("note", sa.String(), nullable=True),
        sa.Column("completed_by", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["unit.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("obligation", "period", "unit_id", "step", name="uq_item_key"),
    )
    with op.batch_alter_table("checklistitem", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_checklistitem_due"), ["due"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_checklistitem_obligation"), ["obligation"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_checklistitem_period"), ["period"], unique=False)
        batch_op.create_index(batch_op.f("ix_checklistitem_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_checklistitem_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "outboxmessage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("recipient", sa.String(), nullable=False),
        sa.Column("cc", sa.JSON(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("obligation", sa.String(), nullable=False),
        sa.Column("period", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("pending", "sending", "sent", "failed", name="outboxstatus"),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["unit.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key", name="uq_outbox_key"),
    )
    with op.batch_alter_table("outboxmessage", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outboxmessage_obligation"), ["obligation"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_outboxmessage_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_outboxmessage_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "plantask",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.String(), nullable=False),
        sa.Column("sub", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("category", sa.String(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("units_text", sa.String(), nullable=False),
        sa.Column("deadline_text", sa.String(), nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("window_start", sa.Date(), nullable=True),
        sa.Column("recurrence", sa.String(), nullable=False),
        sa.Column("lead_units", sa.JSON(), nullable=False),
        sa.Column("units", sa.JSON(), nullable=False),
        sa.Column("cooperating_units", sa.JSON(), nullable=False),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plan.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("plantask", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plantask_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "application",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(), nullable=False),
        sa.Column("received", sa.Date(), nullable=False),
        sa.Column("applicant_type", sa.String(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=True),
        sa.Column("replied", sa.Date(), nullable=True),
        sa.Column("extended", sa.Boolean(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("fingerprint", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["checklistitem.id"],
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["unit.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_application_fingerprint"), ["fingerprint"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_application_received"), ["received"], unique=False)
        batch_op.create_index(batch_op.f("ix_application_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "itemevent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("by", sa.String(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["checklistitem.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("itemevent", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_itemevent_item_id"), ["item_id"], unique=False)

    op.create_table(
        "outboxattachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(), nullable=False),
        sa.Column("mime_type", sa.String(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["outbox_id"],
            ["outboxmessage.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("outboxattachment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outboxattachment_outbox_id"), ["outbox_id"], unique=False
        )

    op.create_table(
        "reminderlog",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("rung", sa.String(), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("skipped", sa.Boolean(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["checklistitem.id"],
        ),
        sa.ForeignKeyConstraint(
            ["outbox_id"],
            ["outboxmessage.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("item_id", "rung", name="uq_reminder_item_rung"),
    )
    with op.batch_alter_table("reminderlog", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reminderlog_item_id"), ["item_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reminderlog", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reminderlog_item_id"))

    op.drop_table("reminderlog")
    with op.batch_alter_table("outboxattachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outboxattachment_outbox_id"))

    op.drop_table("outboxattachment")
    with op.batch_alter_table("itemevent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_itemevent_item_id"))

    op.drop_table("itemevent")
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_application_unit_id"))
        batch_op.drop_index(batch_op.f("ix_application_received"))
        batch_op.drop_index(batch_op.f("ix_application_fingerprint"))

    op.drop_table("application")
    with op.batch_alter_table("plantask", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plantask_plan_id"))

    op.drop_table("plantask")
    with op.batch_alter_table("outboxmessage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outboxmessage_unit_id"))
        batch_op.drop_index(batch_op.f("ix_outboxmessage_status"))
        batch_op.drop_index(batch_op.f("ix_outboxmessage_obligation"))

    op.drop_table("outboxmessage")
    with op.batch_alter_table("checklistitem", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_checklistitem_unit_id"))
        batch_op.drop_index(batch_op.f("ix_checklistitem_status"))
        batch_op.drop_index(batch_op.f("ix_checklistitem_period"))
        batch_op.drop_index(batch_op.f("ix_checklistitem_obligation"))
        batch_op.drop_index(batch_op.f("ix_checklistitem_due"))

    op.drop_table("checklistitem")
    with op.batch_alter_table("annualfigure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_annualfigure_year"))
        batch_op.drop_index(batch_op.f("ix_annualfigure_unit_id"))

    op.drop_table("annualfigure")
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unit_district"))

    op.drop_table("unit")
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_district"))

    op.drop_table("plan")
    op.drop_table("holidayoverride")
    if op.get_bind().dialect.name == "postgresql":
        for name in ("unitkind", "role", "itemstatus", "outboxstatus"):
            sa.Enum(name=name).drop(op.get_bind(), checkfirst=True)
