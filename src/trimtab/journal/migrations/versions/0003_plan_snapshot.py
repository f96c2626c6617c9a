"""Plans keep the state of the portfolio they were made from (``snapshot``), so a plan whose
moment has passed (a run started since, holdings moved) is refused as ``PLAN_STALE``.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("plans") as batch:
        batch.add_column(sa.Column("snapshot", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("plans") as batch:
        batch.drop_column("snapshot")
