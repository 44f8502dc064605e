"""Which hospital each source system belongs to, and emergency (break-the-glass) access grants."""

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.common.clock import utcnow
from webapp.extensions import db
from webapp.models.org import Hospital


class SourceSystem(db.Model):
    """A hospital system that drops exports under `incoming/<name>/`; no hospital = unassigned."""

    __tablename__ = "source_system"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The same string PatientIdentifier.source_system and MedicalRecord.source_system hold.
    name: Mapped[str] = mapped_column(String(120), unique=True)
    hospital_id: Mapped[int | None] = mapped_column(
        ForeignKey("hospital.id"), index=True, nullable=True
    )
    description: Mapped[str] = mapped_column(String(300), default="")
    # Who registered it: admin, cli, seed, or ingest (met by a run, so unassigned).
    registered_by: Mapped[str] = mapped_column(String(20), default="admin")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    hospital: Mapped[Hospital | None] = relationship(lazy="joined")


class BreakGlassGrant(db.Model):
    """A doctor's emergency access to one patient outside their hospital, until `expires_at`."""

    __tablename__ = "break_glass_grant"
    __table_args__ = (Index("ix_break_glass_user_expires", "user_id", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patient.id", ondelete="CASCADE"), index=True
    )
    reason_code: Mapped[str] = mapped_column(String(40))
    reason_text: Mapped[str] = mapped_column(String(500))
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    user: Mapped["User"] = relationship(foreign_keys=[user_id], lazy="joined")  # noqa: F821
    reviewed_by: Mapped["User | None"] = relationship(  # noqa: F821
        foreign_keys=[reviewed_by_id], lazy="joined"
    )
