"""The pipeline's output matches pipeline/contract.py, the names the app's loader relies on."""

import json
from collections import defaultdict

from pipeline import contract
from pipeline.run import run_pipeline
from tests.support.pipeline_inputs import read_lines, write_file


def test_a_run_writes_exactly_the_contracts_files_fields_and_rules(tmp_path):
    incoming = tmp_path / "incoming"
    write_file(
        incoming / "legacy",
        "a.csv",
        "1,7,2024-01-31,Flu,Rest,P,10.05,n,x,y\n2,7,2024-01-09,Flu,Rest,P,2.5,n,x,y\n"
        "3,8,bad,Flu,Rest,P,1,n,x,y\n",
    )
    patient = {"resourceType": "Patient", "id": "p1", "birthDate": "2000-01-02", "gender": "male"}
    encounter = {
        "resourceType": "Encounter",
        "id": "e1",
        "subject": {"reference": "Patient/p1"},
        "period": {"start": "2021-08-31T20:00:00-07:00"},
    }
    write_file(
        incoming / "hosp", "Patient.ndjson", json.dumps(patient) + "\n" + json.dumps(encounter)
    )
    out = tmp_path / "out"

    manifest = run_pipeline([str(incoming)], str(out))

    assert {p.name for p in out.iterdir()} == {*contract.OUTPUT_FILES.values(), contract.SUCCESS}
    assert tuple(manifest) == contract.MANIFEST_FIELDS
    assert tuple(manifest["counts"]) == contract.MANIFEST_COUNTS
    assert all(tuple(i) == contract.MANIFEST_INPUT_FIELDS for i in manifest["inputs"])
    assert manifest["manifest_version"] == contract.MANIFEST_VERSION
    assert contract.RUN_ID_PATTERN.fullmatch(manifest["run_id"])
    records = read_lines(out / contract.RECORDS_FILE)
    patients = read_lines(out / contract.PATIENTS_FILE)
    rejects = read_lines(out / contract.REJECTS_FILE)
    totals = read_lines(out / contract.TOTALS_FILE)
    assert len(records) == 3 and len(patients) == 1 and len(rejects) == 1
    assert all(tuple(r) == contract.RECORD_FIELDS for r in records)
    assert all(tuple(r["provenance"]) == contract.PROVENANCE_FIELDS for r in records)
    assert all(tuple(p) == contract.PATIENT_FIELDS for p in patients)
    assert all(tuple(r) == contract.REJECT_FIELDS for r in rejects)
    assert all(tuple(t) == contract.TOTALS_FIELDS for t in totals)
    # Month rule: the source's own calendar month, never converted to UTC.
    assert {r["month"] for r in records} == {"2024-01", "2021-08"}
    assert all(r["month"] == contract.month_of(r["record_date"]) for r in records)
    # Money rule: two decimals; totals are exact sums of the records' cents per patient key.
    assert all(contract.money(contract.cents(r["cost"])) == r["cost"] for r in records)
    summed = defaultdict(int)
    for r in records:
        summed[(r["source_system"], contract.patient_ref(r["patient"]), r["month"])] += (
            contract.cents(r["cost"])
        )
    assert {
        (t["source_system"], contract.patient_ref(t["patient"]), t["month"]): contract.cents(
            t["total_cost"]
        )
        for t in totals
    } == dict(summed)
    assert summed[("legacy", "7", "2024-01")] == 1255


def test_patient_key_and_ref_name_one_patient_whichever_id_it_has():
    platform = {"patient": {"platform_patient_id": 7}}
    source = {"patient": {"source_patient_id": 'p"1'}}
    assert contract.patient_key(platform) == '{"platform_patient_id":7}'
    assert json.loads(contract.patient_key(source)) == source["patient"]
    assert contract.patient_ref(platform["patient"]) == "7"
    assert contract.patient_ref(source["patient"]) == 'p"1'


def test_money_and_cents_round_trip_exactly():
    assert contract.cents("123.45") == 12345
    assert contract.cents("2.5") == 250
    assert contract.cents("7") == 700
    assert contract.money(12345) == "123.45"
    assert contract.money(5) == "0.05"
