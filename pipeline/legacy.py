"""Parser for the original platform's medical-record CSV export (header optional)."""

import csv
from json.encoder import encode_basestring as esc

from pipeline.canonical import Reject, cents_of, parse_cost, parse_day, reject
from pipeline.readers import LEGACY_COLUMNS, DecodedLines, drain_bad

WIDTH = len(LEGACY_COLUMNS)


def parse_legacy(spec, stream, stats):
    """Yield ("line", (json_line, total_key, cents)) or ("reject", row) per legacy CSV row."""
    lines = DecodedLines(stream)
    reader = csv.reader(lines)
    source, relpath = spec["source_system"], spec["relpath"]
    first = True
    head = f'{{"source_system":{esc(source)},"source_record_id":'
    prov = f'{{"file":{esc(spec["uri"])},"generation":{esc(spec["generation"])},"position":'
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
        pid = int(pid)
        key = (source, f'{{"platform_patient_id":{pid}}}', month)
        # Hand-built JSON: this is the hot path for big legacy exports and json.dumps of a
        # nested dict costs as much as all the parsing. The legacy tests check it round-trips.
        line = (
            f"{head}{esc(relpath + '#' + rid.strip())},"
            f'"patient":{{"platform_patient_id":{pid}}},"kind":"encounter","recorded_at":null,'
            f'"record_date":"{record_date}","month":"{month}","diagnosis":{esc(diagnosis)},'
            f'"treatment":{esc(treatment)},"prescription":{esc(prescription)},'
            f'"cost":"{amount}","cost_source":"source","notes":{esc(notes)},'
            f'"provenance":{prov}{pos}}}}}'
        )
        yield "line", (line, key, cents_of(amount))
    yield from drain_bad(spec, lines, stats)
