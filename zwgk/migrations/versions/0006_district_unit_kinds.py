"""unit kinds as data: unit.kind is a string; districtkind holds a district's own kinds

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 11:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_KINDS = ("office", "department", "street", "town", "park")


def upgrade() -> None:
    op.create_table(
        "districtkind",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("district", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("label", sa.String(), nullable=False),
        sa.Column("groups", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("district", "kind", name="uq_districtkind_district_kind"),
    )
    with op.batch_alter_table("districtkind", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_districtkind_district"), ["district"], unique=False)
    postgresql = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.alter_column(
            "kind",
            existing_type=sa.Enum(*DEFAULT_KINDS, name="unitkind"),
            type_=sa.String(),
            existing_nullable=False,
            postgresql_using="kind::text",
        )
    if postgresql:
        sa.Enum(name="unitkind").drop(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    # Units of a district's own kinds cannot be of the old fixed set: they become departments.
    kinds = ", ".join(f"'{k}'" for k in DEFAULT_KINDS)
    op.execute(f"UPDATE unit SET kind = 'department' WHERE kind NOT IN ({kinds})")
    unitkind = sa.Enum(*DEFAULT_KINDS, name="unitkind")
    if op.get_bind().dialect.name == "postgresql":
        unitkind.create(op.get_bind(), checkfirst=True)
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.alter_column(
            "kind",
            existing_type=sa.String(),
            type_=unitkind,
            existing_nullable=False,
            postgresql_using="kind::unitkind",
        )
    with op.batch_alter_table("districtkind", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_districtkind_district"))
    op.drop_table("districtkind")
