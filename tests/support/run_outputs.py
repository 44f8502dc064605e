"""Pipeline outputs for load tests: by the real pipeline, or by hand per pipeline/README.md."""

import base64
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from pipeline.contract import RECORDS_FILE, record_line
from webapp.services import storage

LEGACY_HEADER = (
    "id,patient_id,record_date,diagnosis,treatment,prescription,cost,notes,created_time,"
    "updated_time"
)


def legacy_csv(rows: list[tuple[int, str, str]]) -> str:
    """A legacy export: one (platform patient id, YYYY-MM-DD, cost) per visit."""
    lines = [LEGACY_HEADER]
    for number, (patient_id, day, cost) in enumerate(rows, start=1):
        lines.append(
            f"{number},{patient_id},{day},Flu,Rest,Paracetamol,{cost},note,"
            f"{day} 10:00:00,{day} 10:00:00"
        )
    return "\n".join(lines) + "\n"


def run_real_pipeline(folder: Path, output_uri: str, run_id: str, rows) -> dict:
    """Write a legacy file under folder/incoming/hospital-a and run the Beam pipeline on it."""
    from pipeline.run import run_pipeline

    source = folder / "incoming" / "hospital-a" / f"{run_id}.csv"
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_text(legacy_csv(rows), encoding="utf-8")
    return run_pipeline([str(source)], output_uri, run_id=run_id)


def write_output(output_uri: str, run_id: str, rows, source_system: str = "hospital-a") -> None:
    """A finished run's output folder holding legacy visits, _SUCCESS written last."""
    records, totals = [], defaultdict(lambda: [Decimal(0), 0])
    for number, (patient_id, day, cost) in enumerate(rows, start=1):
        records.append(
            {
                "source_system": source_system,
                "source_record_id": f"{run_id}.csv#{number}",
                "patient": {"platform_patient_id": patient_id},
                "kind": "encounter",
                "recorded_at": None,
                "record_date": day,
                "month": day[:7],
                "diagnosis": "Flu",
                "treatment": "Rest",
                "prescription": "Paracetamol",
                "cost": f"{Decimal(cost):.2f}",
                "cost_source": "source",
                "notes": "note",
                "provenance": {"file": f"{run_id}.csv", "generation": "1-1", "position": number},
            }
        )
        key = (patient_id, day[:7])
        totals[key][0] += Decimal(cost)
        totals[key][1] += 1
    total_rows = [
        {
            "source_system": source_system,
            "patient": {"platform_patient_id": patient_id},
            "month": month,
            "total_cost": f"{total:.2f}",
            "record_count": count,
        }
        for (patient_id, month), (total, count) in totals.items()
    ]
    _write(output_uri, "patients.ndjson", [])
    lines = "".join(record_line(record) + "\n" for record in records)
    storage.write_text(storage.join(output_uri, RECORDS_FILE), lines)
    _write(output_uri, "rejects.ndjson", [])
    _write(output_uri, "totals.ndjson", total_rows)
    manifest = {
        "manifest_version": 1,
        "run_id": run_id,
        "counts": {"files": 1, "rows_read": len(records), "records": len(records)},
    }
    storage.write_text(storage.join(output_uri, "_SUCCESS"), json.dumps(manifest))


def _write(output_uri: str, name: str, rows: list[dict]) -> None:
    text = "".join(json.dumps(row) + "\n" for row in rows)
    storage.write_text(storage.join(output_uri, name), text)


def push_envelope(
    object_name: str,
    bucket: str = "aikey-test",
    generation: str = "1700000000000001",
    event_type: str = "OBJECT_FINALIZE",
    attempt: int = 1,
) -> dict:
    """A Pub/Sub push body exactly as a Cloud Storage notification arrives."""
    resource = {
        "kind": "storage#object",
        "bucket": bucket,
        "name": object_name,
        "generation": generation,
        "contentType": "application/json",
        "size": "120",
    }
    return {
        "message": {
            "attributes": {
                "bucketId": bucket,
                "objectId": object_name,
                "objectGeneration": generation,
                "eventTime": "2026-01-01T00:00:00.000000Z",
                "eventType": event_type,
                "notificationConfig": f"projects/_/buckets/{bucket}/notificationConfigs/1",
                "payloadFormat": "JSON_API_V1",
            },
            "data": base64.b64encode(json.dumps(resource).encode()).decode(),
            "messageId": "1234567890",
            "publishTime": "2026-01-01T00:00:00.123Z",
        },
        "subscription": "projects/aikey-test/subscriptions/storage-push",
        "deliveryAttempt": attempt,
    }
