"""Hospitals and the organizations (departments) inside them."""

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db


class Hospital(db.Model):
    """A hospital whose systems send exports and whose departments employ users."""

    __tablename__ = "hospital"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)

    organizations: Mapped[list["Organization"]] = relationship(back_populates="hospital")


class Organization(db.Model):
    """A department of a hospital, such as Cardiology."""

    __tablename__ = "organization"
    __table_args__ = (UniqueConstraint("hospital_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hospital_id: Mapped[int] = mapped_column(ForeignKey("hospital.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))

    hospital: Mapped[Hospital] = relationship(back_populates="organizations")

    @property
    def label(self) -> str:
        """Name shown in lists: department and hospital."""
        return f"{self.name} — {self.hospital.name}"
