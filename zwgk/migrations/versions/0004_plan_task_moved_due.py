"""plantask: the administrator's due date (zwgk plan move-due)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 11:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("plantask", schema=None) as batch_op:
        batch_op.add_column(sa.Column("moved_due", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("plantask", schema=None) as batch_op:
        batch_op.drop_column("moved_due")
