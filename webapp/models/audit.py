"""The append-only audit trail, the hash chain that seals it, and the record of its checks."""

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.common.clock import utcnow
from webapp.extensions import db


class AuditEvent(db.Model):
    """Who did what, to which user or patient, when and from where. Never updated."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_occurred_at", "occurred_at"),
        Index("ix_audit_event_actor_time", "actor_user_id", "occurred_at"),
        Index("ix_audit_event_patient_time", "patient_id", "occurred_at"),
        Index("ix_audit_event_action_time", "action", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Plain columns, not foreign keys: the trail must outlive the rows it speaks of.
    actor_user_id: Mapped[int | None] = mapped_column(Integer)
    actor_email: Mapped[str | None] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(64))
    target_user_id: Mapped[int | None] = mapped_column(Integer)
    patient_id: Mapped[int | None] = mapped_column(Integer)
    ip_address: Mapped[str | None] = mapped_column(String(64))
    path: Mapped[str | None] = mapped_column(String(500))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    # SHA-256 of the row's canonical content, taken when the row is built (services/audit/chain).
    row_hash: Mapped[str | None] = mapped_column(String(64))


class AuditSeal(db.Model):
    """One link of the hash chain over audit rows, in sealing order. Never updated.

    The links live here rather than in audit_event so that audit_event stays strictly
    append-only (its trigger refuses every UPDATE): sealing only ever INSERTs. `seq` orders the
    chain; it is not the event id because a row can commit after a higher id was sealed.
    """

    __tablename__ = "audit_seal"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    event_id: Mapped[int] = mapped_column(Integer, unique=True)
    link: Mapped[str] = mapped_column(String(64))
    sealed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditCheck(db.Model):
    """The outcome of one `flask audit verify`: later checks compare the chain's head with it."""

    __tablename__ = "audit_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    rows_checked: Mapped[int] = mapped_column(Integer)
    intact: Mapped[bool] = mapped_column(Boolean)
    head_seq: Mapped[int | None] = mapped_column(BigInteger)
    head_link: Mapped[str | None] = mapped_column(String(64))
    sealed_through_id: Mapped[int | None] = mapped_column(Integer)
    first_bad_id: Mapped[int | None] = mapped_column(Integer)
    problem: Mapped[str | None] = mapped_column(Text)
