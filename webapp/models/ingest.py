"""What ingestion refused, and which storage notifications were already handled."""

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webapp.common.clock import utcnow
from webapp.extensions import db


class IngestReject(db.Model):
    """One input row refused by the pipeline or the loader, with its reason."""

    __tablename__ = "ingest_reject"
    __table_args__ = (Index("ix_ingest_reject_run_id", "run_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("pipeline_run.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(16))  # pipeline or loader
    source_system: Mapped[str | None] = mapped_column(String(120))
    file: Mapped[str | None] = mapped_column(String(1000))
    position: Mapped[int | None] = mapped_column(Integer)
    excerpt: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)


class StorageEvent(db.Model):
    """A Cloud Storage notification already processed: at-least-once delivery loads once."""

    __tablename__ = "storage_event"
    __table_args__ = (UniqueConstraint("bucket", "object_name", "generation"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bucket: Mapped[str] = mapped_column(String(255))
    object_name: Mapped[str] = mapped_column(String(1024))
    generation: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(32))
    processed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
