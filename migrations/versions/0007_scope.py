"""Source systems belong to hospitals; break-the-glass grants

Revision ID: 0007_scope
Revises: 0006_partial_dup
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_scope"
down_revision = "0006_partial_dup"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "source_system",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("hospital_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("registered_by", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["hospital_id"], ["hospital.id"], name=op.f("fk_source_system_hospital_id_hospital")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_system")),
        sa.UniqueConstraint("name", name=op.f("uq_source_system_name")),
    )
    op.create_index("ix_source_system_hospital_id", "source_system", ["hospital_id"])
    # Every system already in the data starts unassigned: nobody sees it until an AIPHAS
    # operator assigns it (least privilege from the first deploy on).
    op.execute(
        "INSERT INTO source_system (name, description, registered_by, created_at) "
        "SELECT DISTINCT source_system, '', 'migration', CURRENT_TIMESTAMP "
        "FROM patient_identifier"
    )
    op.create_table(
        "break_glass_grant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("reason_code", sa.String(length=40), nullable=False),
        sa.Column("reason_text", sa.String(length=500), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_break_glass_grant_user_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
            name=op.f("fk_break_glass_grant_patient_id_patient"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by_id"],
            ["app_user.id"],
            name=op.f("fk_break_glass_grant_reviewed_by_id_app_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_break_glass_grant")),
    )
    op.create_index("ix_break_glass_grant_patient_id", "break_glass_grant", ["patient_id"])
    op.create_index("ix_break_glass_user_expires", "break_glass_grant", ["user_id", "expires_at"])


def downgrade():
    op.drop_index("ix_break_glass_user_expires", table_name="break_glass_grant")
    op.drop_index("ix_break_glass_grant_patient_id", table_name="break_glass_grant")
    op.drop_table("break_glass_grant")
    op.drop_index("ix_source_system_hospital_id", table_name="source_system")
    op.drop_table("source_system")
