"""Loads one pipeline run's output into the database in one transaction.

Patients are resolved across systems, records upserted on (source_system, source_record_id),
duplicate visits marked, patient_cost recomputed from the records for every touched patient,
and the result reconciled with the pipeline's control totals.
"""

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import insert

from pipeline.contract import PATIENTS_FILE, REJECTS_FILE
from webapp.database import is_postgresql
from webapp.extensions import db
from webapp.models import IngestReject, PipelineRun
from webapp.services.costs.recompute import recompute_costs, recompute_months
from webapp.services.ingestion.loader.duplicates import mark_duplicate_visits
from webapp.services.ingestion.loader.identity import PatientResolver
from webapp.services.ingestion.loader.output_files import (
    OutputNotReady,
    batched,
    iter_rows,
    read_manifest,
)
from webapp.services.ingestion.loader.pg_bulk import PgBulkRecordWriter
from webapp.services.ingestion.loader.reconcile import reconcile
from webapp.services.ingestion.loader.records import RecordWriter
from webapp.services.ingestion.loader.steps import StepTimes
from webapp.services.ingestion.sources import register_unknown

BATCH = 10_000

__all__ = ["LoadSummary", "OutputNotReady", "load_output"]


@dataclass
class LoadSummary:
    """What one load did."""

    records_loaded: int = 0
    patients_created: int = 0
    patients_linked: int = 0
    duplicates: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    reconciliation: dict = field(default_factory=dict)
    manifest: dict = field(default_factory=dict)
    # Source systems this load met for the first time: registered unassigned, seen by nobody.
    unassigned_sources: list[str] = field(default_factory=list)
    step_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def rejected(self) -> int:
        """Rows refused by the pipeline and by the loader together."""
        return sum(self.rejected_by_reason.values())


def load_output(
    output_uri: str, run: PipelineRun, progress: Callable[[int], None] | None = None
) -> LoadSummary:
    """Load a finished run's output and fill in the run's figures; the caller commits."""
    manifest = read_manifest(output_uri)
    times = StepTimes()
    resolver = PatientResolver()
    systems = {entry.get("source_system") for entry in manifest.get("inputs", [])}
    with times.step("resolve patients"):
        systems |= resolver.resolve_all(iter_rows(output_uri, PATIENTS_FILE))
    unassigned = register_unknown(systems)
    writer_type = PgBulkRecordWriter if is_postgresql() else RecordWriter
    writer = writer_type(resolver, times=times)
    writer.write_all(output_uri, progress)
    with times.step("duplicate visits"):
        duplicates, relinked = mark_duplicate_visits(writer.touched_patients)
    with times.step("recompute costs"):
        if writer.touched_months is None:
            recompute_costs(writer.touched_patients)
        else:
            recompute_months(writer.touched_months | relinked, staged=writer.staged_months)
    with times.step("store rejects"):
        reasons = _store_rejects(output_uri, run.id, writer.refused_rows())
    with times.step("reconcile"):
        reconciliation = reconcile(output_uri, writer.totals)
    summary = LoadSummary(
        records_loaded=writer.written,
        patients_created=resolver.created,
        patients_linked=resolver.linked,
        duplicates=duplicates,
        rejected_by_reason=dict(reasons),
        reconciliation=reconciliation,
        manifest=manifest,
        unassigned_sources=unassigned,
        step_seconds=dict(times),
    )
    _fill_run(run, summary, writer.touched_patients)
    return summary


def _store_rejects(output_uri: str, run_id: str, refused: Iterator[dict]) -> Counter:
    reasons = Counter()
    db.session.query(IngestReject).filter_by(run_id=run_id).delete()
    pipeline_rows = ({**row, "stage": "pipeline"} for row in iter_rows(output_uri, REJECTS_FILE))
    loader_rows = ({**row, "stage": "loader"} for row in refused)
    for source in (pipeline_rows, loader_rows):
        for rows in batched(source, BATCH):
            db.session.execute(insert(IngestReject), [_reject_values(run_id, r) for r in rows])
            reasons.update(r["reason"] for r in rows)
    return reasons


def _reject_values(run_id: str, row: dict) -> dict:
    position = row.get("position")
    return {
        "run_id": run_id,
        "stage": row["stage"],
        "source_system": row.get("source_system"),
        "file": (row.get("file") or "")[-1000:] or None,
        "position": int(position)
        if isinstance(position, int | str) and str(position).isdigit()
        else None,
        "excerpt": row.get("excerpt"),
        "reason": row["reason"],
        "detail": row.get("detail"),
    }


def _fill_run(run: PipelineRun, summary: LoadSummary, touched: set[int]) -> None:
    counts = summary.manifest.get("counts", {})
    run.files_count = counts.get("files", 0)
    run.rows_read = counts.get("rows_read", 0)
    run.rows_loaded = summary.records_loaded
    run.rows_rejected = summary.rejected
    run.rejects_by_reason = summary.rejected_by_reason
    run.patients_created = summary.patients_created
    run.patients_linked = summary.patients_linked
    run.reconciliation = {
        **summary.reconciliation,
        "duplicate_visits": summary.duplicates,
        "patients_touched": len(touched),
        "skipped": counts.get("skipped", {}),
        "unassigned_sources": summary.unassigned_sources,
        "load_seconds": summary.step_seconds,
    }
