"""Synthea CSV export: patients, encounter/medication costs, reference files counted."""

import csv
from collections import defaultdict
from decimal import Decimal

import apache_beam as beam
from apache_beam.testing.util import assert_that, equal_to

from tests.support.pipeline_inputs import parse_inputs


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_patients_keep_names_as_in_source(shared_data, make_pipeline):
    folder = shared_data / "synthea-ca" / "csv"
    raw = read_csv(folder / "patients.csv")
    expected = [(r["Id"], r["FIRST"], r["LAST"], r["BIRTHDATE"], r["ZIP"]) for r in raw]
    with make_pipeline() as p:
        patients = parse_inputs(p, [folder / "patients.csv"])["patients"]
        got = patients | beam.Map(
            lambda r: (
                r["source_patient_id"],
                r["given_name"],
                r["family_name"],
                r["birth_date"],
                r["postal_code"],
            )
        )
        assert_that(got, equal_to(expected))
        jorge = patients | "jorge" >> beam.Filter(lambda r: r["family_name"] == "Vela532")
        assert_that(
            jorge | beam.Map(lambda r: (r["given_name"], r["sex"], r["source_system"])),
            equal_to([("Jorge Luis88", "male", "csv")]),
            label="jorge",
        )


def test_totals_equal_decimal_sums_of_claim_costs(shared_data, make_pipeline):
    folder = shared_data / "synthea-ca" / "csv"
    sums = defaultdict(lambda: [Decimal("0"), 0])
    for name, cost in (("encounters", "TOTAL_CLAIM_COST"), ("medications", "TOTALCOST")):
        for r in read_csv(folder / f"{name}.csv"):
            acc = sums[(r["PATIENT"], r["START"][:7])]
            acc[0] += Decimal(r[cost])
            acc[1] += 1
    for r in read_csv(folder / "conditions.csv"):
        sums[(r["PATIENT"], r["START"][:7])][1] += 1
    expected = [(pid, m, f"{t:.2f}", n) for (pid, m), (t, n) in sums.items()]
    enc_ids = [f"encounters.csv#{r['Id']}" for r in read_csv(folder / "encounters.csv")]
    with make_pipeline() as p:
        out = parse_inputs(p, [folder])
        totals = out["totals"] | beam.Map(
            lambda t: (
                t["patient"]["source_patient_id"],
                t["month"],
                t["total_cost"],
                t["record_count"],
            )
        )
        assert_that(totals, equal_to(expected))
        encounter_ids = (
            out["records"]
            | beam.Filter(lambda r: r["kind"] == "encounter")
            | beam.Map(lambda r: r["source_record_id"])
        )
        assert_that(encounter_ids, equal_to(enc_ids), label="encounter ids")
        assert_that(out["rejects"], equal_to([]), label="no rejects")


def test_reference_files_are_skipped_and_counted(shared_data, make_pipeline):
    folder = shared_data / "synthea-ca" / "csv"
    names = ("organizations", "providers", "payers")
    expected = sum(len(read_csv(folder / f"{n}.csv")) for n in names)
    with make_pipeline() as p:
        out = parse_inputs(p, [folder / f"{n}.csv" for n in names])
        skipped = out["stats"] | beam.Map(
            lambda s: sum(f.get("skipped", {}).get("reference_data", 0) for f in s.values())
        )
        assert_that(skipped, equal_to([expected]))
        assert_that(out["records"], equal_to([]), label="no records")
        assert_that(out["rejects"], equal_to([]), label="no rejects")
