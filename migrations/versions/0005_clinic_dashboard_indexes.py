"""Doctor dashboard indexes: trigram name search, newest cost rows, name ordering

Revision ID: 0005_clinic
Revises: 0004_live
"""

from alembic import op

revision = "0005_clinic"
down_revision = "0004_live"
branch_labels = None
depends_on = None


def _is_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    # Stable orderings: /costs by updated_at then id, the patient list by name then id.
    op.create_index("ix_patient_cost_updated_id", "patient_cost", ["updated_at", "id"])
    op.create_index("ix_patient_name_order", "patient", ["family_name", "given_name", "id"])
    if _is_postgres():
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        # Substring search (LIKE '%jeronimo%') on the folded name needs trigrams, not a btree.
        op.execute(
            "CREATE INDEX IF NOT EXISTS ix_patient_search_name_trgm "
            "ON patient USING gin (search_name gin_trgm_ops)"
        )


def downgrade():
    if _is_postgres():
        # The extension stays: other databases objects may rely on it and it holds no data.
        op.execute("DROP INDEX IF EXISTS ix_patient_search_name_trgm")
    op.drop_index("ix_patient_name_order", table_name="patient")
    op.drop_index("ix_patient_cost_updated_id", table_name="patient_cost")
