"""checklistitem: a reply clock that restarts on 补正 and pauses for third-party consultation

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 11:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("checklistitem", schema=None) as batch_op:
        batch_op.add_column(sa.Column("clock_from", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("excluded_workdays", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("due_basis", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("checklistitem", schema=None) as batch_op:
        batch_op.drop_column("due_basis")
        batch_op.drop_column("excluded_workdays")
        batch_op.drop_column("clock_from")
