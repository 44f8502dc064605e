"""Legacy platform CSV: header optional, ids unique per file only, no trailing newline."""

import csv
import json
from collections import defaultdict
from decimal import Decimal

import apache_beam as beam
from apache_beam.testing.util import assert_that, equal_to

from tests.support.pipeline_inputs import parse_inputs, write_file

HEADER = "id,patient_id,record_date,diagnosis,treatment,prescription,cost,notes,created_time,"
HEADER += "updated_time"
RECORD_FIELDS = {
    "source_system", "source_record_id", "patient", "kind", "recorded_at", "record_date",
    "month", "diagnosis", "treatment", "prescription", "cost", "cost_source", "notes",
    "provenance",
}  # fmt: skip


def raw_legacy_rows(folder):
    """Independent reading of the legacy files: (file name, row) for every data row."""
    rows = []
    for path in sorted(folder.glob("*.csv")):
        for row in csv.reader(path.read_text(encoding="utf-8").splitlines()):
            if row and row[0] != "id":
                rows.append((path.name, row))
    return rows


def test_legacy_records_match_raw_files(shared_data, make_pipeline):
    folder = shared_data / "legacy-csv"
    expected = [
        (f"{name}#{r[0]}", int(r[1]), r[2], str(Decimal(r[6]).quantize(Decimal("0.01"))), r[3])
        for name, r in raw_legacy_rows(folder)
    ]
    assert len(expected) == 15  # 5 rows in each of the 3 files
    with make_pipeline() as p:
        out = parse_inputs(p, [folder])
        got = out["records"] | beam.Map(
            lambda r: (
                r["source_record_id"],
                r["patient"]["platform_patient_id"],
                r["record_date"],
                r["cost"],
                r["diagnosis"],
            )
        )
        assert_that(got, equal_to(expected))
        sources = out["records"] | "src" >> beam.Map(lambda r: (r["source_system"], r["kind"]))
        assert_that(sources, equal_to([("legacy-csv", "encounter")] * 15), label="source")
        assert_that(out["rejects"], equal_to([]), label="no rejects")


def test_legacy_totals_match_decimal_sums(shared_data, make_pipeline):
    folder = shared_data / "legacy-csv"
    sums = defaultdict(lambda: [Decimal("0"), 0])
    for _, r in raw_legacy_rows(folder):
        acc = sums[(int(r[1]), r[2][:7])]
        acc[0] += Decimal(r[6])
        acc[1] += 1
    expected = [(pid, month, f"{t:.2f}", n) for (pid, month), (t, n) in sums.items()]
    with make_pipeline() as p:
        totals = parse_inputs(p, [folder])["totals"] | beam.Map(
            lambda t: (
                t["patient"]["platform_patient_id"],
                t["month"],
                t["total_cost"],
                t["record_count"],
            )
        )
        assert_that(totals, equal_to(expected))


def test_headerless_file_and_missing_trailing_newline(tmp_path, make_pipeline):
    write_file(
        tmp_path / "sys",
        "a.csv",
        "1,7,2024-01-02,Flu,Rest,None,10.00,n,x,y\n2,7,2024-01-03,Flu,Rest,None,5.5,n,x,y",
    )
    write_file(tmp_path / "sys", "b.csv", HEADER + "\n1,8,2024-02-02,Cold,Tea,None,1,n,x,y")
    with make_pipeline() as p:
        out = parse_inputs(p, [tmp_path / "sys"])
        got = out["records"] | beam.Map(
            lambda r: (r["source_record_id"], r["cost"], r["provenance"]["position"])
        )
        # Same id "1" in two files is two records; the header line is not a record; the last
        # line of each file (no trailing newline) still loads; positions are physical lines.
        expected = [("a.csv#1", "10.00", 1), ("a.csv#2", "5.50", 2), ("b.csv#1", "1.00", 2)]
        assert_that(got, equal_to(expected))


def test_hand_built_json_lines_round_trip(tmp_path, make_pipeline):
    text = '1,7,2024-01-02,"Flu, ""bad""",Rest\\n ok,Ünïcode ✓,10.00,"multi\nline",x,y\n'
    path = write_file(tmp_path / "sys", "a.csv", text)
    with make_pipeline() as p:
        out = parse_inputs(p, [path])
        assert_that(
            out["records"]
            | beam.Map(
                lambda r: (set(r), r["diagnosis"], r["treatment"], r["prescription"], r["notes"])
            ),
            equal_to([(RECORD_FIELDS, 'Flu, "bad"', "Rest\\n ok", "Ünïcode ✓", "multi\nline")]),
        )
        assert_that(
            out["records"]
            | "prov" >> beam.Map(lambda r: json.dumps(r["provenance"], sort_keys=True)),
            equal_to(
                [
                    json.dumps(
                        {"file": str(path), "generation": _generation(path), "position": 1},
                        sort_keys=True,
                    )
                ]
            ),
            label="provenance",
        )


def _generation(path):
    stat = path.stat()
    return f"{stat.st_mtime_ns}-{stat.st_size}"
