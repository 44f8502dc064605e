"""Build the _SUCCESS manifest from merged per-file stats once the pipeline has finished."""

from datetime import UTC, datetime

from pipeline.stats import merge_into

OUTPUT_FILES = {
    "patients": "patients.ndjson",
    "records": "records.ndjson",
    "rejects": "rejects.ndjson",
    "totals": "totals.ndjson",
}
SUCCESS = "_SUCCESS"
MANIFEST_VERSION = 1


def build_manifest(run_id, output, specs, stats_by_file, line_counts):
    """Return the manifest dict: run id, counts, inputs with format and generation, outputs."""
    total = {"rows_read": 0, "records": 0, "patients": 0, "rejected": {}, "skipped": {}}
    inputs = []
    for spec in specs:
        row = stats_by_file.get(spec["uri"], {})
        merge_into(total, row)
        inputs.append(
            {
                "uri": spec["uri"],
                "source_system": spec["source_system"],
                "relpath": spec["relpath"],
                "format": row.get("format"),
                "generation": spec["generation"],
                "rows_read": row.get("rows_read", 0),
                "records": row.get("records", 0),
                "patients": row.get("patients", 0),
                "rejected": row.get("rejected", {}),
                "skipped": row.get("skipped", {}),
            }
        )
    return {
        "manifest_version": MANIFEST_VERSION,
        "run_id": run_id,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "output": output,
        "counts": {
            "files": len(specs),
            "rows_read": total["rows_read"],
            "records": total["records"],
            "patients": total["patients"],
            "totals": line_counts.get("totals"),
            "rejected": sum(total["rejected"].values()),
            "rejected_by_reason": dict(sorted(total["rejected"].items())),
            "skipped": dict(sorted(total["skipped"].items())),
        },
        "line_counts": line_counts,
        "inputs": inputs,
        "outputs": dict(OUTPUT_FILES, manifest=SUCCESS),
    }
