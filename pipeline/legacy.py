"""Parser for the original platform's medical-record CSV export (header optional)."""

import csv

from pipeline.canonical import Reject, parse_cost, parse_day, provenance, reject
from pipeline.readers import LEGACY_COLUMNS, DecodedLines, drain_bad

WIDTH = len(LEGACY_COLUMNS)


def parse_legacy(spec, stream, stats):
    """Yield ("record"|"reject", row) for every line of a legacy CSV stream."""
    lines = DecodedLines(stream)
    reader = csv.reader(lines)
    source, relpath = spec["source_system"], spec["relpath"]
    first = True
    while True:
        lines.mark = True
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            yield from drain_bad(spec, lines, stats)
            stats["rows_read"] += 1
            yield "reject", reject(spec, lines.lineno, "", "malformed_csv", err)
            continue
        if lines.bad:
            yield from drain_bad(spec, lines, stats)
        if not row:
            continue
        pos = lines.start
        if first:
            first = False
            if tuple(c.strip().lower() for c in row) == LEGACY_COLUMNS:
                continue
        stats["rows_read"] += 1
        if len(row) != WIDTH:
            detail = f"{len(row)} columns, expected {WIDTH}"
            yield "reject", reject(spec, pos, ",".join(row), "wrong_column_count", detail)
            continue
        rid, pid, day, diagnosis, treatment, prescription, cost, notes = row[:8]
        try:
            if not rid.strip():
                raise Reject("missing_field", "id is empty")
            if not pid.strip():
                raise Reject("missing_field", "patient_id is empty")
            if not pid.strip().isdigit():
                raise Reject("bad_id", f"patient_id={pid[:40]!r}")
            record_date, month = parse_day(day, "record_date")
            amount = parse_cost(cost)
        except Reject as err:
            yield "reject", reject(spec, pos, ",".join(row), err.reason, err.detail)
            continue
        yield (
            "record",
            {
                "source_system": source,
                "source_record_id": f"{relpath}#{rid.strip()}",
                "patient": {"platform_patient_id": int(pid)},
                "kind": "encounter",
                "recorded_at": None,
                "record_date": record_date,
                "month": month,
                "diagnosis": diagnosis,
                "treatment": treatment,
                "prescription": prescription,
                "cost": str(amount),
                "cost_source": "source",
                "notes": notes,
                "provenance": provenance(spec, pos),
            },
        )
    yield from drain_bad(spec, lines, stats)
