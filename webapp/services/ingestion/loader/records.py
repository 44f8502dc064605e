"""Upserting pipeline records keyed on (source_system, source_record_id)."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select

from pipeline.contract import PLATFORM_PATIENT_ID, SOURCE_PATIENT_ID, cents, patient_ref
from webapp.common.clock import utcnow
from webapp.extensions import db
from webapp.models import Patient
from webapp.services.ingestion.loader.identity import PatientResolver
from webapp.services.ingestion.loader.output_files import batched, iter_records
from webapp.services.ingestion.loader.record_store import upsert_records
from webapp.services.ingestion.loader.steps import StepTimes

BATCH = 2_000
UNKNOWN_PATIENT = "unknown_patient"
DUPLICATE_ID = "duplicate_record_id"
REFUSAL_DETAILS = {
    UNKNOWN_PATIENT: "the record's patient is not known",
    DUPLICATE_ID: "a later row has the same record id",
}


@dataclass
class LoadedTotals:
    """What the loader wrote and refused, per (source_system, patient ref, month), in cents."""

    loaded: dict[tuple, list[int]] = field(default_factory=dict)
    refused: dict[tuple, list[int]] = field(default_factory=dict)

    def add(self, bucket: dict, row: dict) -> None:
        """Count one record's cost under its control-total key."""
        key = control_key(row)
        entry = bucket.setdefault(key, [0, 0])
        entry[0] += cents(row["cost"])
        entry[1] += 1


def control_key(row: dict) -> tuple:
    """(source_system, patient reference, month): the key of totals.ndjson."""
    return row["source_system"], patient_ref(row["patient"]), row["month"]


@dataclass
class WriterState:
    """What a record writer did: figures for the run and rows to report as refused."""

    resolver: PatientResolver
    totals: LoadedTotals = field(default_factory=LoadedTotals)
    touched_patients: set[int] = field(default_factory=set)
    # The (patient, month) pairs whose records changed; None: recompute touched patients whole.
    touched_months: set[tuple[int, str]] | None = None
    # A table of the load's transaction holding more touched (patient_id, month) pairs.
    staged_months: str | None = None
    times: StepTimes = field(default_factory=StepTimes)
    refused: list[dict] = field(default_factory=list)
    written: int = 0

    def refused_rows(self) -> Iterator[dict]:
        """The reject rows of the records this load refused, in file order."""
        yield from self.refused


@dataclass
class RecordWriter(WriterState):
    """Writes record batches through the ORM connection (the SQLite path)."""

    def write_all(self, output_uri: str, progress: Callable[[int], None] | None = None) -> None:
        """Write every record of the run, batch by batch."""
        for rows in batched(iter_records(output_uri), BATCH):
            with self.times.step("upsert records"):
                self.write_batch(rows)
            if progress:
                progress(len(rows))

    def write_batch(self, rows: list[dict]) -> None:
        """Resolve each row's patient, refuse the unknown ones, upsert the rest."""
        platform_ids = self._existing_platform_patients(rows)
        self.resolver.load_known(
            (row["source_system"], str(row["patient"][SOURCE_PATIENT_ID]))
            for row in rows
            if SOURCE_PATIENT_ID in row["patient"]
        )
        values = {}
        for row in rows:
            patient_id = self._patient_id(row, platform_ids)
            if patient_id is None:
                self._refuse(row, UNKNOWN_PATIENT)
                continue
            key = (row["source_system"], row["source_record_id"])
            if key in values:
                # One statement cannot write a key twice; the later row of the export wins.
                _, earlier = values.pop(key)
                self._unload(earlier)
                self._refuse(earlier, DUPLICATE_ID)
            values[key] = (_record_values(row, patient_id), row)
            self.totals.add(self.totals.loaded, row)
        if values:
            records = [record for record, _ in values.values()]
            upsert_records(records)
            self.touched_patients.update(record["patient_id"] for record in records)
            self.written += len(records)

    def _unload(self, earlier: dict) -> None:
        entry = self.totals.loaded[control_key(earlier)]
        entry[0] -= cents(earlier["cost"])
        entry[1] -= 1

    def _patient_id(self, row: dict, platform_ids: set[int]) -> int | None:
        patient = row["patient"]
        if PLATFORM_PATIENT_ID in patient:
            pid = int(patient[PLATFORM_PATIENT_ID])
            return pid if pid in platform_ids else None
        return self.resolver.patient_for((row["source_system"], str(patient[SOURCE_PATIENT_ID])))

    def _existing_platform_patients(self, rows: list[dict]) -> set[int]:
        wanted = {
            int(row["patient"][PLATFORM_PATIENT_ID])
            for row in rows
            if PLATFORM_PATIENT_ID in row["patient"]
        }
        if not wanted:
            return set()
        return set(db.session.scalars(select(Patient.id).where(Patient.id.in_(wanted))))

    def _refuse(self, row: dict, reason: str) -> None:
        self.totals.add(self.totals.refused, row)
        self.refused.append(refused_row(row, reason))


def refused_row(row: dict, reason: str) -> dict:
    """The reject row for a canonical record the loader refuses (a REFUSAL_DETAILS reason)."""
    provenance = row.get("provenance") or {}
    return {
        "source_system": row["source_system"],
        "file": provenance.get("file"),
        "position": provenance.get("position"),
        "excerpt": f"{row['source_record_id']} → patient {row['patient']}"[:200],
        "reason": reason,
        "detail": REFUSAL_DETAILS[reason],
    }


def _record_values(row: dict, patient_id: int) -> dict:
    provenance = row.get("provenance") or {}
    recorded_at = row.get("recorded_at")
    now = utcnow()
    return {
        "patient_id": patient_id,
        "source_system": row["source_system"],
        "source_record_id": row["source_record_id"],
        "kind": row["kind"],
        "record_date": date.fromisoformat(row["record_date"]),
        # Stored as UTC: SQLite keeps no offset, and equal instants must compare equal.
        "recorded_at": datetime.fromisoformat(recorded_at).astimezone(UTC) if recorded_at else None,
        "month": row["month"],
        "diagnosis": row.get("diagnosis"),
        "treatment": row.get("treatment"),
        "prescription": row.get("prescription"),
        "cost": Decimal(row["cost"]),
        "notes": row.get("notes"),
        "source_file": (provenance.get("file") or "")[-500:] or None,
        "source_position": str(provenance.get("position", ""))[:60] or None,
        "created_at": now,
        "updated_at": now,
    }
