"""Cash flows: deposits, withdrawals and external balance changes; the quantities each check saw.

A flow's ``state``: ``done`` (counted), ``pending`` (a deposit not yet in the balance), ``sending`` (a
withdrawal journaled before it was sent), ``not_sent`` (the venue proved it never got it).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "flows",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("portfolio", sa.String(64), nullable=False, index=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("asset", sa.String(16), nullable=False),
        sa.Column("quantity", sa.Float, nullable=False),
        sa.Column("price", sa.Float, nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("address", sa.String(128), nullable=True),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("state", sa.String(16), nullable=False, server_default="done"),
        sa.Column("client_id", sa.String(64), nullable=True, unique=True),
    )
    with op.batch_alter_table("checks") as batch:
        batch.add_column(sa.Column("quantities", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("checks") as batch:
        batch.drop_column("quantities")
    op.drop_table("flows")
