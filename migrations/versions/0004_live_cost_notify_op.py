"""Live updates: the patient_cost NOTIFY payload also says whether the row is new

Revision ID: 0004_live
Revises: 0003_ingest

A new month is inserted at the top of open /costs pages, a changed one replaced in place, so
listeners need TG_OP. No table changes; SQLite (no NOTIFY) is left alone.
"""

from alembic import op

revision = "0004_live"
down_revision = "0003_ingest"
branch_labels = None
depends_on = None

FUNCTION = """
CREATE OR REPLACE FUNCTION notify_patient_cost() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify(
        'patient_cost',
        json_build_object(
            'id', NEW.id, 'patient_id', NEW.patient_id, 'month', NEW.month{extra}
        )::text
    );
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


def _is_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    if _is_postgres():
        op.execute(FUNCTION.format(extra=", 'op', TG_OP"))


def downgrade():
    if _is_postgres():
        op.execute(FUNCTION.format(extra=""))
