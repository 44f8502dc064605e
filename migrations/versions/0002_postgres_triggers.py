"""PostgreSQL triggers: NOTIFY patient_cost changes, keep audit_event append-only

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

NOTIFY_FUNCTION = """
CREATE OR REPLACE FUNCTION notify_patient_cost() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify(
        'patient_cost',
        json_build_object('id', NEW.id, 'patient_id', NEW.patient_id, 'month', NEW.month)::text
    );
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

NOTIFY_TRIGGER = """
CREATE TRIGGER patient_cost_notify
AFTER INSERT OR UPDATE ON patient_cost
FOR EACH ROW EXECUTE FUNCTION notify_patient_cost();
"""

APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION refuse_audit_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_event is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
"""

APPEND_ONLY_TRIGGER = """
CREATE TRIGGER audit_event_append_only
BEFORE UPDATE OR DELETE ON audit_event
FOR EACH ROW EXECUTE FUNCTION refuse_audit_change();
"""


def _is_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    if not _is_postgres():
        return
    op.execute(NOTIFY_FUNCTION)
    op.execute(NOTIFY_TRIGGER)
    op.execute(APPEND_ONLY_FUNCTION)
    op.execute(APPEND_ONLY_TRIGGER)


def downgrade():
    if not _is_postgres():
        return
    op.execute("DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event")
    op.execute("DROP FUNCTION IF EXISTS refuse_audit_change()")
    op.execute("DROP TRIGGER IF EXISTS patient_cost_notify ON patient_cost")
    op.execute("DROP FUNCTION IF EXISTS notify_patient_cost()")
