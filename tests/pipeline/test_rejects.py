"""Every reject reason: bad input goes to the dead-letter output and the good lines still load."""

import json

import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to

from pipeline.canonical import REASONS, parse_instant
from tests.support.pipeline_inputs import parse_inputs, write_file

GOOD = "1,7,2024-01-02,Flu,Rest,None,10.00,n,x,y\n"
LEGACY_CASES = {
    "wrong_column_count": "2,7,2024-01-02,Flu,Rest,None,10.00\n",
    "bad_date": "2,7,2024-13-45,Flu,Rest,None,10.00,n,x,y\n",
    "bad_cost": "2,7,2024-01-02,Flu,Rest,None,ten,n,x,y\n",
    "negative_cost": "2,7,2024-01-02,Flu,Rest,None,-3.00,n,x,y\n",
    "absurd_cost": "2,7,2024-01-02,Flu,Rest,None,1000000.01,n,x,y\n",
    "missing_field": "2,,2024-01-02,Flu,Rest,None,3.00,n,x,y\n",
    "bad_id": "2,seven,2024-01-02,Flu,Rest,None,3.00,n,x,y\n",
    "bad_utf8": b"2,7,2024-01-02,Fl\xff\xfe,Rest,None,3.00,n,x,y\n",
    "malformed_csv": '2,7,2024-01-02,"' + "x" * 140_000 + '",Rest,None,3.00,n,x,y\n',
}


@pytest.mark.parametrize("reason", sorted(LEGACY_CASES))
def test_legacy_bad_line_is_rejected_and_good_lines_load(reason, tmp_path, make_pipeline):
    bad = LEGACY_CASES[reason]
    bad = bad if isinstance(bad, bytes) else bad.encode("utf-8")
    path = write_file(tmp_path / "sys", "f.csv", GOOD.encode() + bad + b"3" + GOOD[1:].encode())
    with make_pipeline() as p:
        out = parse_inputs(p, [path])
        rejects = out["rejects"] | beam.Map(
            lambda r: (r["reason"], r["position"], r["file"], len(r["excerpt"]) <= 200)
        )
        assert_that(rejects, equal_to([(reason, 2, str(path), True)]))
        ids = out["records"] | beam.Map(lambda r: r["source_record_id"])
        assert_that(ids, equal_to(["f.csv#1", "f.csv#3"]), label="good lines")
        totals = out["totals"] | beam.Map(lambda t: (t["total_cost"], t["record_count"]))
        assert_that(totals, equal_to([("20.00", 2)]), label="totals exclude rejects")


NDJSON_GOOD = json.dumps({"resourceType": "Patient", "id": "p1", "birthDate": "2000-01-01"})
ENC = {"resourceType": "Encounter", "id": "e1", "subject": {"reference": "Patient/p1"}}
NDJSON_CASES = {
    "malformed_json": b'{"resourceType": "Patient", "id": ',
    "bad_utf8": b'{"resourceType": "Patient", "id": "\xff"}',
    # Not a FHIR R4 type (a valid type the platform does not store is skipped, not rejected).
    "unsupported_resource": json.dumps({"resourceType": "Spaceship", "id": "o1"}).encode(),
    "bad_date": json.dumps(dict(ENC, period={"start": "yesterday"})).encode(),
    "missing_field": json.dumps({"resourceType": "Patient", "id": "p2"}).encode(),
}


@pytest.mark.parametrize("reason", sorted(NDJSON_CASES))
def test_ndjson_bad_line_is_rejected(reason, tmp_path, make_pipeline):
    data = NDJSON_GOOD.encode() + b"\n" + NDJSON_CASES[reason] + b"\n"
    path = write_file(tmp_path / "sys", "res.ndjson", data)
    with make_pipeline() as p:
        out = parse_inputs(p, [path])
        rejects = out["rejects"] | beam.Map(lambda r: (r["reason"], r["position"]))
        assert_that(rejects, equal_to([(reason, 2)]))
        ids = out["patients"] | beam.Map(lambda r: r["source_patient_id"])
        assert_that(ids, equal_to(["p1"]), label="good line")


def test_bundle_level_rejects(tmp_path, make_pipeline):
    write_file(tmp_path / "s", "broken.json", '{"resourceType": "Bundle", "entry": [\n{]}')
    write_file(
        tmp_path / "s", "latin1.json", '{"resourceType": "Patient", "id": "é"}'.encode("latin-1")
    )
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": "urn:uuid:e1", "resource": dict(ENC, period={"start": "2020-01-01"})},
            {"resource": {"resourceType": "Claim", "id": "c", "total": {"value": 5},
                          "item": [{"encounter": [{"reference": "urn:uuid:nope"}]}]}},
            {"resource": {"resourceType": "Claim", "id": "c2", "total": {"value": -5},
                          "item": [{"encounter": [{"reference": "urn:uuid:e1"}]}]}},
        ],
    }  # fmt: skip
    write_file(tmp_path / "s", "ok.json", json.dumps(bundle))
    write_file(tmp_path / "s", "notes.txt", "just some text\n")
    with make_pipeline() as p:
        out = parse_inputs(p, [tmp_path / "s"])
        rejects = out["rejects"] | beam.Map(lambda r: (r["file"].rsplit("/", 1)[-1], r["reason"]))
        expected = [
            ("broken.json", "malformed_json"),
            ("latin1.json", "bad_utf8"),
            ("ok.json", "unresolved_reference"),
            ("ok.json", "negative_cost"),
            ("notes.txt", "unknown_format"),
        ]
        assert_that(rejects, equal_to(expected))
        costs = out["records"] | beam.Map(lambda r: (r["source_record_id"], r["cost"]))
        assert_that(costs, equal_to([("Encounter/e1", "0.00")]), label="record kept")


def test_unreadable_file_is_a_read_error(tmp_path, make_pipeline):
    path = write_file(tmp_path / "s", "gone.csv", GOOD)
    with make_pipeline() as p:
        out = parse_inputs(p, [path])
        path.unlink()  # discovered at construction, gone when the pipeline runs
        rejects = out["rejects"] | beam.Map(lambda r: r["reason"])
        assert_that(rejects, equal_to(["read_error"]))


def test_every_documented_reason_is_exercised():
    tested = set(LEGACY_CASES) | set(NDJSON_CASES)
    tested |= {"unresolved_reference", "unknown_format", "read_error"}
    assert tested == set(REASONS)


@pytest.mark.parametrize(
    ("raw", "month", "day"),
    [
        ("2021-08-31T20:00:00-07:00", "2021-08", "2021-08-31"),  # September in UTC
        ("2021-09-01T01:30:00+09:00", "2021-09", "2021-09-01"),  # still August in UTC
        ("2021-08-23T03:26:50Z", "2021-08", "2021-08-23"),
        ("2021-08-23", "2021-08", "2021-08-23"),
    ],
)
def test_month_is_the_sources_own_calendar_month(raw, month, day):
    recorded_at, record_date, got_month = parse_instant(raw, "start")
    assert (record_date, got_month) == (day, month)
    assert recorded_at is None if len(raw) == 10 else recorded_at.startswith(day)
