"""Upserting pipeline records keyed on (source_system, source_record_id)."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.dialects import postgresql, sqlite

from webapp.extensions import db
from webapp.models import MedicalRecord, Patient
from webapp.models.user import utcnow
from webapp.services.loader.identity import PatientResolver

UPDATABLE = (
    "patient_id",
    "kind",
    "record_date",
    "recorded_at",
    "month",
    "diagnosis",
    "treatment",
    "prescription",
    "cost",
    "notes",
    "source_file",
    "source_position",
)
UNKNOWN_PATIENT = "unknown_patient"


@dataclass
class LoadedTotals:
    """What the loader wrote and refused, per (source_system, patient ref, month), in cents."""

    loaded: dict[tuple, list[int]] = field(default_factory=dict)
    refused: dict[tuple, list[int]] = field(default_factory=dict)

    def add(self, bucket: dict, row: dict) -> None:
        """Count one record's cost under its control-total key."""
        key = control_key(row)
        entry = bucket.setdefault(key, [0, 0])
        entry[0] += int(Decimal(row["cost"]) * 100)
        entry[1] += 1


def control_key(row: dict) -> tuple:
    """(source_system, patient reference, month): the key of totals.ndjson."""
    patient = row["patient"]
    ref = patient.get("platform_patient_id", patient.get("source_patient_id"))
    return row["source_system"], str(ref), row["month"]


@dataclass
class RecordWriter:
    """Writes record batches, remembering touched patients and refused rows."""

    resolver: PatientResolver
    totals: LoadedTotals = field(default_factory=LoadedTotals)
    touched_patients: set[int] = field(default_factory=set)
    refused: list[dict] = field(default_factory=list)
    written: int = 0

    def write_batch(self, rows: list[dict]) -> None:
        """Resolve each row's patient, refuse the unknown ones, upsert the rest."""
        platform_ids = self._existing_platform_patients(rows)
        values = []
        for row in rows:
            patient_id = self._patient_id(row, platform_ids)
            if patient_id is None:
                self._refuse(row)
                continue
            values.append(_record_values(row, patient_id))
            self.touched_patients.add(patient_id)
            self.totals.add(self.totals.loaded, row)
        if values:
            db.session.execute(_upsert(values))
            self.written += len(values)

    def _patient_id(self, row: dict, platform_ids: set[int]) -> int | None:
        patient = row["patient"]
        if "platform_patient_id" in patient:
            pid = int(patient["platform_patient_id"])
            return pid if pid in platform_ids else None
        return self.resolver.patient_for((row["source_system"], str(patient["source_patient_id"])))

    def _existing_platform_patients(self, rows: list[dict]) -> set[int]:
        wanted = {
            int(row["patient"]["platform_patient_id"])
            for row in rows
            if "platform_patient_id" in row["patient"]
        }
        if not wanted:
            return set()
        return set(db.session.scalars(select(Patient.id).where(Patient.id.in_(wanted))))

    def _refuse(self, row: dict) -> None:
        self.totals.add(self.totals.refused, row)
        provenance = row.get("provenance") or {}
        self.refused.append(
            {
                "source_system": row["source_system"],
                "file": provenance.get("file"),
                "position": provenance.get("position"),
                "excerpt": f"{row['source_record_id']} → patient {row['patient']}"[:200],
                "reason": UNKNOWN_PATIENT,
                "detail": "the record's patient is not known to the platform",
            }
        )


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


def _upsert(values: list[dict]):
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(MedicalRecord).values(values)
    changed = or_(
        *(getattr(MedicalRecord, name).is_distinct_from(stmt.excluded[name]) for name in UPDATABLE)
    )
    # Rows that did not change are left alone: loading the same output twice changes nothing.
    return stmt.on_conflict_do_update(
        index_elements=["source_system", "source_record_id"],
        set_={**{name: stmt.excluded[name] for name in UPDATABLE}, "updated_at": utcnow()},
        where=changed,
    )
