"""Build the _SUCCESS manifest from merged per-file stats; write it as the pipeline's last step."""

import json
from datetime import UTC, datetime

import apache_beam as beam

from pipeline.contract import MANIFEST_VERSION, OUTPUT_FILES, SUCCESS
from pipeline.sinks import remove_dir, write_bytes
from pipeline.stats import merge_into, stats_by_file


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


def manifest_path(params):
    """<output>/_SUCCESS for a RunParams; call at run time only."""
    return "/".join([params.output(), SUCCESS])


class WriteManifestDoFn(beam.DoFn):
    """The run's last step: write <output>/_SUCCESS, then remove the temp folder.

    Its side inputs are every writer's (file name, line count), emitted only once that file is
    complete, the stats rows (merged here: a handful per file) and the discovered specs; a
    runner starts this step only when all of them are computed, so _SUCCESS cannot appear
    before any output file is finished.
    """

    def __init__(self, params):
        super().__init__()
        self.params = params

    def process(self, _, line_counts, stats, specs):
        by_name = dict(line_counts)
        counts = {tag: by_name[name] for tag, name in OUTPUT_FILES.items()}
        specs = sorted(specs, key=lambda spec: spec["uri"])
        manifest = build_manifest(
            self.params.run_id(), self.params.output(), specs, stats_by_file(stats), counts
        )
        data = json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8")
        write_bytes(manifest_path(self.params), data)
        remove_dir(self.params.tmp_dir())
        yield manifest["counts"]
