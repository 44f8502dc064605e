"""Every table of a complete Synthea CSV export and every FHIR R4 resource type is recognised:
stored when it carries what we store, otherwise skipped and counted, never unknown_format."""

import json

from pipeline.run import run_pipeline
from tests.support.pipeline_inputs import read_lines, write_file

PATIENT = "b1a3c0de-0000-4000-8000-000000000001"
# Synthea 3.x headers (abridged where the table is wide); the patient column as Synthea names it.
OTHER_TABLES = {
    "allergies.csv": "START,STOP,PATIENT,ENCOUNTER,CODE,SYSTEM,DESCRIPTION,TYPE,CATEGORY",
    "careplans.csv": "Id,START,STOP,PATIENT,ENCOUNTER,CODE,DESCRIPTION,REASONCODE",
    "claims.csv": "Id,PATIENTID,PROVIDERID,PRIMARYPATIENTINSURANCEID,DEPARTMENTID,SERVICEDATE",
    "claims_transactions.csv": "ID,CLAIMID,CHARGEID,PATIENTID,TYPE,AMOUNT,METHOD,FROMDATE",
    "devices.csv": "START,STOP,PATIENT,ENCOUNTER,CODE,DESCRIPTION,UDI",
    "imaging_studies.csv": "Id,DATE,PATIENT,ENCOUNTER,SERIES_UID,BODYSITE_CODE,MODALITY_CODE",
    "immunizations.csv": "DATE,PATIENT,ENCOUNTER,CODE,DESCRIPTION,BASE_COST",
    "observations.csv": "DATE,PATIENT,ENCOUNTER,CATEGORY,CODE,DESCRIPTION,VALUE,UNITS,TYPE",
    "procedures.csv": "START,STOP,PATIENT,ENCOUNTER,SYSTEM,CODE,DESCRIPTION,BASE_COST",
    "supplies.csv": "DATE,PATIENT,ENCOUNTER,CODE,DESCRIPTION,QUANTITY",
    "payer_transitions.csv": "PATIENT,MEMBERID,START_DATE,END_DATE,PAYER,SECONDARY_PAYER",
}


def _rows(header: str, count: int) -> str:
    """`count` rows of the header's width, the patient column holding a patient id."""
    names = header.split(",")
    lines = [header]
    for n in range(count):
        cells = [PATIENT if name in ("PATIENT", "PATIENTID") else f"v{n}" for name in names]
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


def test_every_other_synthea_table_is_skipped_and_counted(tmp_path):
    folder = tmp_path / "incoming" / "synthea"
    for number, (name, header) in enumerate(sorted(OTHER_TABLES.items()), start=1):
        write_file(folder, name, _rows(header, number))
    manifest = run_pipeline([str(folder)], str(tmp_path / "out"), run_id="whole-synthea")
    formats = {entry["relpath"]: entry["format"] for entry in manifest["inputs"]}
    assert formats == dict.fromkeys(OTHER_TABLES, "synthea_other")
    assert read_lines(tmp_path / "out" / "rejects.ndjson") == []
    expected_rows = sum(range(1, len(OTHER_TABLES) + 1))
    assert manifest["counts"]["skipped"] == {"unsupported_file_row": expected_rows}
    assert manifest["counts"]["rejected"] == 0
    claims = next(e for e in manifest["inputs"] if e["relpath"] == "claims.csv")
    assert claims["skipped"] == {"unsupported_file_row": claims["rows_read"]}


def test_a_csv_named_like_a_synthea_table_without_its_columns_is_unknown(tmp_path):
    folder = tmp_path / "incoming" / "other"
    write_file(folder, "claims.csv", "a,b,c\n1,2,3\n")
    manifest = run_pipeline([str(folder)], str(tmp_path / "out"), run_id="not-synthea")
    assert [r["reason"] for r in read_lines(tmp_path / "out" / "rejects.ndjson")] == [
        "unknown_format"
    ]
    assert manifest["inputs"][0]["format"] == "unknown"


def test_ndjson_fhir_types_we_do_not_store_are_skipped_unknown_types_rejected(tmp_path):
    folder = tmp_path / "incoming" / "fhir"
    lines = [
        {"resourceType": "Patient", "id": "p1", "birthDate": "2000-01-01", "gender": "female"},
        {"resourceType": "Observation", "id": "o1", "subject": {"reference": "Patient/p1"}},
        {"resourceType": "Immunization", "id": "i1"},
        {"resourceType": "Organization", "id": "org1"},
        {"resourceType": "Spaceship", "id": "s1"},
    ]
    write_file(folder, "all.ndjson", "".join(json.dumps(line) + "\n" for line in lines))
    manifest = run_pipeline([str(folder)], str(tmp_path / "out"), run_id="whole-fhir")
    rejects = read_lines(tmp_path / "out" / "rejects.ndjson")
    assert [(r["reason"], r["detail"], r["position"]) for r in rejects] == [
        ("unsupported_resource", "Spaceship", 5)
    ]
    assert manifest["counts"]["skipped"] == {"unsupported_resource": 2, "reference_data": 1}
    assert manifest["counts"]["patients"] == 1
