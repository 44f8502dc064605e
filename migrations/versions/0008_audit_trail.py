"""Tamper-evident audit trail: per-row hashes, the seal chain, checks, TRUNCATE refused

Revision ID: 0008_audit_trail
Revises: 0006_partial_dup
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_audit_trail"
down_revision = "0007_scope"
branch_labels = None
depends_on = None

# refuse_audit_change() comes from 0002; it raises for any operation, row or statement level.
TRUNCATE_TRIGGER = """
CREATE TRIGGER {table}_no_truncate
BEFORE TRUNCATE ON {table}
FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_change();
"""
ROW_TRIGGER = """
CREATE TRIGGER {table}_append_only
BEFORE UPDATE OR DELETE ON {table}
FOR EACH ROW EXECUTE FUNCTION refuse_audit_change();
"""
# audit_event already has its row trigger (0002); the two new tables get both.
APPEND_ONLY_TABLES = ("audit_seal", "audit_check")


def _is_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    with op.batch_alter_table("audit_event") as batch:
        batch.add_column(sa.Column("row_hash", sa.String(64), nullable=True))
    op.create_table(
        "audit_seal",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("event_id", sa.Integer, nullable=False, unique=True),
        sa.Column("link", sa.String(64), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "audit_check",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rows_checked", sa.Integer, nullable=False),
        sa.Column("intact", sa.Boolean, nullable=False),
        sa.Column("head_seq", sa.BigInteger, nullable=True),
        sa.Column("head_link", sa.String(64), nullable=True),
        sa.Column("sealed_through_id", sa.Integer, nullable=True),
        sa.Column("first_bad_id", sa.Integer, nullable=True),
        sa.Column("problem", sa.Text, nullable=True),
    )
    if not _is_postgres():
        return
    op.execute(TRUNCATE_TRIGGER.format(table="audit_event"))
    for table in APPEND_ONLY_TABLES:
        op.execute(ROW_TRIGGER.format(table=table))
        op.execute(TRUNCATE_TRIGGER.format(table=table))


def downgrade():
    if _is_postgres():
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event")
    op.drop_table("audit_check")
    op.drop_table("audit_seal")
    with op.batch_alter_table("audit_event") as batch:
        batch.drop_column("row_hash")
