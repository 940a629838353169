"""units' submissions (submission: evidence, attachment, 本期无, review) and their files (attachment)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 14:46:24.175598
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "submission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(), nullable=False),
        sa.Column("evidence", sa.String(), nullable=True),
        sa.Column("note", sa.String(), nullable=True),
        sa.Column("nil_reason", sa.String(), nullable=True),
        sa.Column(
            "review",
            sa.Enum("none", "awaiting", "accepted", "returned", name="reviewstate"),
            nullable=False,
        ),
        sa.Column("reviewed_by", sa.String(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("return_reason", sa.String(), nullable=True),
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
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_submission_item_id"), ["item_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_submission_review"), ["review"], unique=False)
        batch_op.create_index(batch_op.f("ix_submission_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(), nullable=False),
        sa.Column("stored_as", sa.String(), nullable=False),
        sa.Column("content_type", sa.String(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["checklistitem.id"],
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submission.id"],
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["unit.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attachment_item_id"), ["item_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_attachment_submission_id"), ["submission_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_attachment_unit_id"), ["unit_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attachment_unit_id"))
        batch_op.drop_index(batch_op.f("ix_attachment_submission_id"))
        batch_op.drop_index(batch_op.f("ix_attachment_item_id"))

    op.drop_table("attachment")
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submission_unit_id"))
        batch_op.drop_index(batch_op.f("ix_submission_review"))
        batch_op.drop_index(batch_op.f("ix_submission_item_id"))

    op.drop_table("submission")
    if op.get_bind().dialect.name == "postgresql":
        sa.Enum(name="reviewstate").drop(op.get_bind(), checkfirst=True)
