"""AIPHAS see where and why a row was refused, never the row's values: page, CSV, audit."""

import csv
import io

import pytest

from tests.support.admin import events
from webapp.models import IngestReject, PipelineRun
from webapp.services.ingestion.rejects import field_and_problem

# What a refused legacy row carries: a name, a diagnosis, a cost, a date of birth.
SECRETS = ("Jerónimo599", "Carcinoma", "12345.67", "1961-02-30", "Paracetamol")


@pytest.fixture
def run_with_rejects(db):
    run = PipelineRun(id="r-phi", trigger="manual", status="succeeded", input_uris=[])
    db.session.add(run)
    db.session.commit()
    rows = [
        ("bad_cost", "cost='12345.67x'", "7,Jerónimo599,2024-01-02,Carcinoma,Rest,Paracetamol"),
        ("bad_date", "birth_date='1961-02-30'", "Jerónimo599,1961-02-30"),
        ("missing_field", "Patient.birthDate is empty", '{"name":"Jerónimo599"}'),
        ("wrong_column_count", "9 columns, expected 10", "Jerónimo599,Carcinoma,12345.67"),
        ("unknown_patient", "patient_id is not a platform patient", "x → patient 12345.67"),
    ]
    db.session.add_all(
        IngestReject(
            run_id=run.id,
            stage="pipeline",
            source_system="hospital-a",
            file="incoming/hospital-a/export.csv",
            position=position,
            excerpt=excerpt,
            reason=reason,
            detail=detail,
        )
        for position, (reason, detail, excerpt) in enumerate(rows, start=3)
    )
    db.session.commit()
    return run


def test_run_page_shows_field_and_problem_but_no_value(client, auth, run_with_rejects):
    auth.login("AIPHAS")
    html = client.get("/admin/runs/r-phi").get_data(as_text=True)
    for summary in (
        "cost: not a number",
        "birth_date: not a valid date",
        "Patient.birthDate: empty",
        "(row): wrong number of columns",
        "patient_id: not a platform patient",
    ):
        assert summary in html
    assert "incoming/hospital-a/export.csv" in html and ">3</td>" in html
    for secret in SECRETS:
        assert secret not in html


def test_rejects_csv_is_redacted_the_same_way(client, auth, run_with_rejects):
    auth.login("AIPHAS")
    response = client.get("/admin/runs/r-phi/rejects.csv")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))
    assert [(r["position"], r["field"], r["problem"]) for r in rows][:2] == [
        ("3", "cost", "not a number"),
        ("4", "birth_date", "not a valid date"),
    ]
    assert rows[0]["file"] == "incoming/hospital-a/export.csv" and rows[0]["reason"] == "bad_cost"
    for secret in SECRETS:
        assert secret not in body


def test_viewing_a_run_and_exporting_its_rejects_is_audited(client, auth, run_with_rejects):
    admin = auth.login("AIPHAS")
    client.get("/admin/runs/r-phi?page=1")
    client.get("/admin/runs/r-phi", headers={"HX-Request": "true"})  # the summary's polling
    client.get("/admin/runs/r-phi/rejects.csv").get_data()
    viewed, exported = events("run.viewed"), events("run.rejects_exported")
    assert [(e.actor_user_id, e.details["run_id"]) for e in viewed] == [(admin.id, "r-phi")]
    assert [(e.actor_user_id, e.details["run_id"]) for e in exported] == [(admin.id, "r-phi")]


def test_viewing_the_audit_log_is_audited(client, auth, db):
    admin = auth.login("AIPHAS")
    client.get("/admin/audit?action=login.*&page=2")
    (event,) = events("audit.viewed")
    assert event.actor_user_id == admin.id and event.details["filters"]["action"] == "login.*"


def test_doctors_get_no_rejects_export(client, auth, run_with_rejects):
    auth.login("DOCTOR")
    assert client.get("/admin/runs/r-phi/rejects.csv").status_code == 403
    assert client.get("/admin/runs/nope/rejects.csv").status_code in (403, 404)


def test_a_value_never_passes_for_a_field_name():
    assert field_and_problem("bad_cost", "cost='abc'") == ("cost", "not a number")
    assert field_and_problem("unresolved_reference", "subject urn:uuid:1 not in bundle") == (
        "reference",
        "points to nothing in the export",
    )
    assert field_and_problem("unsupported_resource", "Observation")[0] == "resourceType"
    assert field_and_problem("bad_utf8", "'utf-8' codec can't decode byte 0xe9")[0] == "(row)"
    assert field_and_problem("something_new", "Jerónimo599 = x") == ("(row)", "refused")


def test_per_patient_file_names_show_only_the_resource_id(client, auth, db):
    """Synthea's FHIR bundles are named after the patient; staff see the bundle's id instead."""
    bundle = "Jorge_Luis88_Vela532_593aaa05-d864-1df7-5b96-155fbdb19f28.json"
    run = PipelineRun(id="r-files", trigger="manual", status="succeeded", input_uris=[])
    db.session.add(run)
    db.session.commit()
    db.session.add(
        IngestReject(
            run_id=run.id,
            stage="pipeline",
            source_system="valley-fhir",
            file=f"incoming/valley-fhir/{bundle}",
            position=2,
            excerpt="{}",
            reason="missing_field",
            detail="Patient.birthDate is empty",
        )
    )
    db.session.commit()
    auth.login("AIPHAS")
    page = client.get("/admin/runs/r-files").get_data(as_text=True)
    export = client.get("/admin/runs/r-files/rejects.csv").get_data(as_text=True)
    for shown in (page, export):
        assert "Vela532" not in shown and "Jorge" not in shown
        assert "incoming/valley-fhir/…593aaa05-d864-1df7-5b96-155fbdb19f28.json" in shown
    # The stored row keeps the full name, for the hospital's own staff and rejects.ndjson.
    assert "Vela532" in db.session.scalars(db.select(IngestReject.file)).one()
