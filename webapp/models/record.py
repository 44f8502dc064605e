"""Medical records and the monthly cost per patient derived from them."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.common.clock import utcnow
from webapp.extensions import db

RECORD_KINDS = ("encounter", "medication", "condition")


class MedicalRecord(db.Model):
    """One encounter, medication or condition as a source system reported it."""

    __tablename__ = "medical_record"
    __table_args__ = (
        UniqueConstraint("source_system", "source_record_id"),
        Index("ix_medical_record_patient_date", "patient_id", "record_date"),
        Index("ix_medical_record_patient_month", "patient_id", "month"),
        # Partial: only duplicates are looked up by it, and a full index tempts the planner
        # into reading every record for "duplicate_of_id IS NULL".
        Index(
            "ix_medical_record_duplicate_of_id",
            "duplicate_of_id",
            postgresql_where=text("duplicate_of_id IS NOT NULL"),
            sqlite_where=text("duplicate_of_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"))
    source_system: Mapped[str] = mapped_column(String(120))
    source_record_id: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(16))
    record_date: Mapped[date] = mapped_column(Date)
    # The instant with the source's own offset kept in the ISO text; month follows that offset.
    recorded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    month: Mapped[str] = mapped_column(String(7))
    diagnosis: Mapped[str | None] = mapped_column(Text)
    treatment: Mapped[str | None] = mapped_column(Text)
    prescription: Mapped[str | None] = mapped_column(Text)
    cost: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0.00"))
    notes: Mapped[str | None] = mapped_column(Text)
    source_file: Mapped[str | None] = mapped_column(String(500))
    source_position: Mapped[str | None] = mapped_column(String(60))
    # Set when another source already reported the same visit: shown once, counted once.
    duplicate_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("medical_record.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    patient = relationship("Patient")


class PatientCost(db.Model):
    """Total cost and record count of one patient in one calendar month."""

    __tablename__ = "patient_cost"
    __table_args__ = (
        UniqueConstraint("patient_id", "month"),
        Index("ix_patient_cost_updated_at", "updated_at"),
        Index("ix_patient_cost_updated_id", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"))
    month: Mapped[str] = mapped_column(String(7))
    total_cost: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    record_count: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    patient = relationship("Patient")
