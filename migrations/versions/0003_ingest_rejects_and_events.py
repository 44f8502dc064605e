"""Rejected input per run, and storage events already processed

Revision ID: 0003_ingest
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_ingest"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "ingest_reject",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("source_system", sa.String(length=120), nullable=True),
        sa.Column("file", sa.String(length=1000), nullable=True),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("excerpt", sa.Text(), nullable=True),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["pipeline_run.id"],
            name=op.f("fk_ingest_reject_run_id_pipeline_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_reject")),
    )
    op.create_index("ix_ingest_reject_run_id", "ingest_reject", ["run_id", "id"])
    op.create_table(
        "storage_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.String(length=255), nullable=False),
        sa.Column("object_name", sa.String(length=1024), nullable=False),
        sa.Column("generation", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storage_event")),
        sa.UniqueConstraint(
            "bucket",
            "object_name",
            "generation",
            name=op.f("uq_storage_event_bucket_object_name_generation"),
        ),
    )


def downgrade():
    op.drop_table("storage_event")
    op.drop_index("ix_ingest_reject_run_id", table_name="ingest_reject")
    op.drop_table("ingest_reject")
