"""Patients and the identifiers hospital systems use for them."""

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.common.clock import utcnow
from webapp.extensions import db


class Patient(db.Model):
    """One person, however many hospital systems know them."""

    __tablename__ = "patient"
    __table_args__ = (
        Index("ix_patient_family_given", "family_name", "given_name"),
        Index("ix_patient_match_key", "match_key"),
        Index("ix_patient_birth_date", "birth_date"),
        Index("ix_patient_name_order", "family_name", "given_name", "id"),
        # Substring search on the folded name (migration 0005 adds pg_trgm).
        Index(
            "ix_patient_search_name_trgm",
            "search_name",
            postgresql_using="gin",
            postgresql_ops={"search_name": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    given_name: Mapped[str] = mapped_column(String(120))
    family_name: Mapped[str] = mapped_column(String(120))
    birth_date: Mapped[date | None] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(16), default="unknown")
    deceased_date: Mapped[date | None] = mapped_column(Date)
    address: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(120))
    state: Mapped[str | None] = mapped_column(String(60))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    # Lower-case, accent-free "given family" so search ignores case and accents on every backend.
    search_name: Mapped[str] = mapped_column(String(250), default="")
    # Normalized given|family|birth date|sex: the deterministic cross-system identity key.
    match_key: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    identifiers: Mapped[list["PatientIdentifier"]] = relationship(
        back_populates="patient", order_by="PatientIdentifier.source_system"
    )

    @property
    def full_name(self) -> str:
        """Given and family name as one string."""
        return f"{self.given_name} {self.family_name}".strip()


class PatientIdentifier(db.Model):
    """The id one hospital system uses for a patient."""

    __tablename__ = "patient_identifier"
    __table_args__ = (UniqueConstraint("source_system", "source_patient_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patient.id", ondelete="CASCADE"), index=True
    )
    source_system: Mapped[str] = mapped_column(String(120))
    source_patient_id: Mapped[str] = mapped_column(String(200), index=True)
    # How the identifier was tied to the patient: new, platform, demographic-match.
    link_method: Mapped[str] = mapped_column(String(32), default="new")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    patient: Mapped[Patient] = relationship(back_populates="identifiers")
