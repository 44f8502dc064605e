"""Make the duplicate_of_id index partial

Revision ID: 0006_partial_dup
Revises: 0005_clinic
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_partial_dup"
down_revision = "0005_clinic"
branch_labels = None
depends_on = None

INDEX = "ix_medical_record_duplicate_of_id"
ONLY_DUPLICATES = sa.text("duplicate_of_id IS NOT NULL")


def upgrade():
    op.drop_index(INDEX, table_name="medical_record")
    op.create_index(
        INDEX,
        "medical_record",
        ["duplicate_of_id"],
        postgresql_where=ONLY_DUPLICATES,
        sqlite_where=ONLY_DUPLICATES,
    )


def downgrade():
    op.drop_index(INDEX, table_name="medical_record")
    op.create_index(INDEX, "medical_record", ["duplicate_of_id"])
