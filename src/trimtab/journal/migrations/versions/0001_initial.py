"""The first journal: checks, runs, legs, fills, transfers.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "checks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("portfolio", sa.String(64), nullable=False, index=True),
        sa.Column("at", TZ, nullable=False, index=True),
        sa.Column("total_value", sa.Float, nullable=False),
        sa.Column("weights", sa.JSON, nullable=False),
        sa.Column("drift", sa.JSON, nullable=False),
        sa.Column("max_drift", sa.Float, nullable=False),
        sa.Column("rebalance", sa.Boolean, nullable=False),
        sa.Column("trigger", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("portfolio", sa.String(64), nullable=False, index=True),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("plan", sa.JSON, nullable=False),
        sa.Column("value_before", sa.Float, nullable=True),
        sa.Column("value_after", sa.Float, nullable=True),
    )
    op.create_table(
        "legs",
        sa.Column("run_id", sa.String(40), primary_key=True),
        sa.Column("idx", sa.Integer, primary_key=True),
        sa.Column("client_id", sa.String(64), nullable=False, unique=True),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("stage", sa.String(24), nullable=False),
        sa.Column("side", sa.String(8), nullable=True),
        sa.Column("asset", sa.String(16), nullable=False),
        sa.Column("chain", sa.String(32), nullable=True),
        sa.Column("to_chain", sa.String(32), nullable=True),
        sa.Column("planned_quantity", sa.Float, nullable=True),
        sa.Column("quote_amount", sa.Float, nullable=True),
        sa.Column("planned_price", sa.Float, nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("filled_quantity", sa.Float, nullable=True),
        sa.Column("value", sa.Float, nullable=True),
        sa.Column("fee", sa.Float, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_table(
        "fills",
        sa.Column("client_id", sa.String(64), primary_key=True),
        sa.Column("run_id", sa.String(40), nullable=False, index=True),
        sa.Column("asset", sa.String(16), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("chain", sa.String(32), nullable=False),
        sa.Column("quantity", sa.Float, nullable=False),
        sa.Column("price", sa.Float, nullable=False),
        sa.Column("mid_price", sa.Float, nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("fee", sa.Float, nullable=False),
        sa.Column("slippage", sa.Float, nullable=False),
        sa.Column("at", TZ, nullable=False),
    )
    op.create_table(
        "transfers",
        sa.Column("client_id", sa.String(64), primary_key=True),
        sa.Column("run_id", sa.String(40), nullable=False, index=True),
        sa.Column("asset", sa.String(16), nullable=False),
        sa.Column("amount", sa.Float, nullable=False),
        sa.Column("fee", sa.Float, nullable=False),
        sa.Column("from_chain", sa.String(32), nullable=False),
        sa.Column("to_chain", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("arrived_at", TZ, nullable=True),
    )


def downgrade() -> None:
    for table in ("transfers", "fills", "legs", "runs", "checks"):
        op.drop_table(table)
