"""FHIR R4 Bundles and NDJSON: costs from Claims (EOB only as fallback), local-offset months."""

import json
from decimal import Decimal

import apache_beam as beam
from apache_beam.testing.util import assert_that, equal_to

from tests.support.pipeline_inputs import parse_inputs, write_file

PATIENT_BUNDLES = "[A-Z]*_*.json"


def expected_from_bundle(path):
    """Independently compute {record id: (cost, month)} from one raw bundle."""
    entries = [e["resource"] for e in json.loads(path.read_text(encoding="utf-8"))["entry"]]
    costs = {}
    for res in entries:
        if res["resourceType"] != "Claim":
            continue
        if "prescription" in res:
            target = "MedicationRequest/" + res["prescription"]["reference"].split(":")[-1]
        else:
            ref = next(i["encounter"][0]["reference"] for i in res["item"] if "encounter" in i)
            target = "Encounter/" + ref.split(":")[-1]
        costs[target] = costs.get(target, Decimal("0")) + Decimal(str(res["total"]["value"]))
    out = {}
    for res in entries:
        kind = res["resourceType"]
        when = {
            "Encounter": lambda r: r["period"]["start"],
            "Condition": lambda r: r.get("onsetDateTime") or r.get("recordedDate"),
            "MedicationRequest": lambda r: r["authoredOn"],
        }.get(kind)
        if when:
            rid = f"{kind}/{res['id']}"
            out[rid] = (f"{costs.get(rid, Decimal('0')):.2f}", when(res)[:7])
    return out


def test_bundle_records_costs_and_months(shared_data, make_pipeline):
    folder = shared_data / "synthea-ca" / "fhir"
    expected = {}
    for path in sorted(folder.glob(PATIENT_BUNDLES)):
        expected.update(expected_from_bundle(path))
    assert any(cost != "0.00" for cost, _ in expected.values())
    with make_pipeline() as p:
        out = parse_inputs(p, sorted(folder.glob(PATIENT_BUNDLES)))
        got = out["records"] | beam.Map(
            lambda r: (r["source_record_id"], r["cost"], r["month"], r["source_system"])
        )
        assert_that(got, equal_to([(k, c, m, "fhir") for k, (c, m) in expected.items()]))
        assert_that(out["rejects"], equal_to([]), label="no rejects")
        patients = out["patients"] | beam.Map(lambda r: r["source_patient_id"])
        ids = [p.name.split("_")[-1][:-5] for p in folder.glob(PATIENT_BUNDLES)]
        assert_that(patients, equal_to(ids), label="patients")


def test_unsupported_resources_in_bundles_are_skipped_not_rejected(shared_data, make_pipeline):
    folder = shared_data / "synthea-ca" / "fhir"
    handled = {"Patient", "Encounter", "Condition", "MedicationRequest", "Claim"}
    handled.add("ExplanationOfBenefit")
    expected = {"unsupported_resource": 0, "reference_data": 0}
    for path in folder.glob("*.json"):
        for entry in json.loads(path.read_text(encoding="utf-8"))["entry"]:
            rtype = entry["resource"]["resourceType"]
            if rtype in {"Organization", "Location", "Practitioner", "PractitionerRole"}:
                expected["reference_data"] += 1
            elif rtype not in handled:
                expected["unsupported_resource"] += 1
    with make_pipeline() as p:
        out = parse_inputs(p, [folder])
        skipped = out["stats"] | beam.Map(
            lambda s: {
                k: sum(f.get("skipped", {}).get(k, 0) for f in s.values())
                for k in ("unsupported_resource", "reference_data")
            }
        )
        assert_that(skipped, equal_to([expected]))
        assert_that(out["rejects"], equal_to([]), label="no rejects")


def _claim(cid, target, value, eob=False, pharmacy=False):
    res = {"resourceType": "ExplanationOfBenefit" if eob else "Claim", "id": cid}
    if pharmacy:
        res["prescription"] = {"reference": target}
    else:
        res["item"] = [{"sequence": 1, "encounter": [{"reference": target}]}]
    if eob:
        amount = {"value": value, "currency": "USD"}
        code = {"coding": [{"code": "submitted"}]}
        res["total"] = [{"category": {"coding": [{"code": "other"}]}, "amount": {"value": 1}}]
        res["total"].append({"category": code, "amount": amount})
    else:
        res["total"] = {"value": value, "currency": "USD"}
    return res


def ndjson(*resources):
    return "".join(json.dumps(r) + "\n" for r in resources)


def test_ndjson_costs_join_across_files(tmp_path, make_pipeline):
    patient = {"resourceType": "Patient", "id": "p1", "birthDate": "2000-01-02", "gender": "female"}
    subject = {"reference": "Patient/p1"}
    enc = lambda i, start: {  # noqa: E731
        "resourceType": "Encounter",
        "id": i,
        "subject": subject,
        "period": {"start": start},
    }
    med = {"resourceType": "MedicationRequest", "id": "m1", "subject": subject}
    med["authoredOn"] = "2021-03-01T10:00:00+01:00"
    folder = tmp_path / "incoming" / "hospital-b"
    write_file(folder, "Patient.ndjson", ndjson(patient))
    write_file(
        folder,
        "Encounter.ndjson",
        ndjson(enc("e1", "2021-08-31T20:00:00-07:00"), enc("e2", "2021-09-01T08:00:00-07:00"), med),
    )
    write_file(
        folder,
        "Claim.ndjson",
        ndjson(
            _claim("c1", "Encounter/e1", 100.10),
            _claim("c2", "Encounter/e1", 0.90),
            _claim("c3", "MedicationRequest/m1", 7.5, pharmacy=True),
            _claim("c4", "Encounter/missing", 5),
        ),
    )
    # EOBs: ignored for e1 (Claims price it), used for e2 (no Claim).
    write_file(
        folder,
        "ExplanationOfBenefit.ndjson",
        ndjson(
            _claim("x1", "Encounter/e1", 999, eob=True), _claim("x2", "Encounter/e2", 42, eob=True)
        ),
    )
    with make_pipeline() as p:
        out = parse_inputs(p, [tmp_path / "incoming"])
        got = out["records"] | beam.Map(
            lambda r: (
                r["source_record_id"],
                r["cost"],
                r["cost_source"],
                r["month"],
                r["source_system"],
            )
        )
        assert_that(
            got,
            equal_to(
                [
                    ("Encounter/e1", "101.00", "claim", "2021-08", "hospital-b"),
                    ("Encounter/e2", "42.00", "eob", "2021-09", "hospital-b"),
                    ("MedicationRequest/m1", "7.50", "claim", "2021-03", "hospital-b"),
                ]
            ),
        )
        rejects = out["rejects"] | beam.Map(lambda r: (r["reason"], r["position"], r["file"][-12:]))
        assert_that(rejects, equal_to([("unresolved_reference", 4, "Claim.ndjson")]), label="rej")
        totals = out["totals"] | beam.Map(
            lambda t: (t["month"], t["total_cost"], t["record_count"])
        )
        expected_totals = [
            ("2021-08", "101.00", 1),
            ("2021-09", "42.00", 1),
            ("2021-03", "7.50", 1),
        ]
        assert_that(totals, equal_to(expected_totals), label="totals")
