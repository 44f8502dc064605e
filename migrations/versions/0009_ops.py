"""Heartbeat of ingestion runs, so a run whose process died is noticed

Revision ID: 0009_ops
Revises: 0006_partial_dup
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_ops"
down_revision = "0008_audit_trail"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("pipeline_run") as batch_op:
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("pipeline_run") as batch_op:
        batch_op.drop_column("heartbeat_at")
