"""One ingestion run: what started it, what it read and what it loaded."""

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.common.clock import utcnow
from webapp.extensions import db

RUN_TRIGGERS = ("scheduler", "pubsub", "manual", "cli")
RUN_STATUSES = ("queued", "running", "loading", "succeeded", "failed", "cancelled")
# A run in one of these holds the single-run lock: no other run starts beside it.
ACTIVE_RUN_STATUSES = ("queued", "running", "loading")


class PipelineRun(db.Model):
    """An ingestion run from files in storage to rows in the database."""

    __tablename__ = "pipeline_run"
    __table_args__ = (Index("ix_pipeline_run_started_at", "started_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    trigger: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Written while a run is alive (its worker thread, or a reconciliation that saw its
    # Dataflow job going); a run silent for RUN_STALE_MINUTES is marked failed.
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    input_uris: Mapped[list] = mapped_column(JSON, default=list)
    output_uri: Mapped[str | None] = mapped_column(String(500))
    dataflow_job_id: Mapped[str | None] = mapped_column(String(200))
    files_count: Mapped[int] = mapped_column(Integer, default=0)
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_loaded: Mapped[int] = mapped_column(Integer, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0)
    rejects_by_reason: Mapped[dict] = mapped_column(JSON, default=dict)
    patients_created: Mapped[int] = mapped_column(Integer, default=0)
    patients_linked: Mapped[int] = mapped_column(Integer, default=0)
    reconciliation: Mapped[dict] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
