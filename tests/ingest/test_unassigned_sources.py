"""Source systems a run meets for the first time load unassigned; the demo seeds both hospitals."""

import re

from sqlalchemy import select

from tests.support.pages import search_patients
from webapp.models import Patient, PatientIdentifier, PipelineRun, SourceSystem, User
from webapp.services.demo.exports import FHIR_SYSTEM, LEGACY_SYSTEM, SYNTHEA_SYSTEM

DEMO_PASSWORD = "demo password 2026"


def listed_ids(response) -> set[int]:
    return {int(pid) for pid in re.findall(r'<tr id="patient-(\d+)"', response.get_data(True))}


def patients_of(db, system: str) -> set[int]:
    return set(
        db.session.scalars(
            select(PatientIdentifier.patient_id).where(PatientIdentifier.source_system == system)
        )
    )


def test_unregistered_systems_load_unassigned_and_nobody_sees_them(
    runner, ingest, client, auth, db
):
    assert runner.invoke(args=["seed", "--patients", "5"]).exit_code == 0
    assert runner.invoke(args=["demo-exports"]).exit_code == 0
    # As if nobody had registered the export systems: only the platform's own is known.
    new_systems = (LEGACY_SYSTEM, SYNTHEA_SYSTEM, FHIR_SYSTEM)
    db.session.execute(SourceSystem.__table__.delete().where(SourceSystem.name.in_(new_systems)))
    db.session.commit()
    ingest()
    db.session.expire_all()
    sources = {s.name: s for s in db.session.scalars(select(SourceSystem))}
    for name in new_systems:
        assert sources[name].hospital_id is None and sources[name].registered_by == "ingest"
    run = db.session.scalars(select(PipelineRun)).one()
    assert sorted(run.reconciliation["unassigned_sources"]) == sorted(new_systems)

    auth.login("AIPHAS")
    page = client.get(f"/admin/runs/{run.id}").get_data(as_text=True)
    assert 'id="unassigned-sources"' in page and SYNTHEA_SYSTEM in page
    sources_page = client.get("/admin/sources").get_data(as_text=True)
    assert "Unassigned" in sources_page and FHIR_SYSTEM in sources_page
    auth.logout()

    auth.login("DOCTOR")
    loaded = patients_of(db, SYNTHEA_SYSTEM)
    assert loaded
    listed = listed_ids(client.get("/patients"))
    assert listed and not listed & loaded  # the platform's patients, none of the new system's
    some = next(iter(loaded))
    assert client.get(f"/patients/{some}").status_code == 403

    # A second run announces nothing new: the systems are registered now.
    ingest()
    newest = db.session.scalars(
        select(PipelineRun).order_by(PipelineRun.started_at.desc(), PipelineRun.id.desc())
    ).first()
    assert newest.reconciliation["unassigned_sources"] == []


def test_the_demo_gives_bob_and_tom_different_patients(runner, ingest, client, auth, db):
    runner.app.config["SEED_PASSWORD"] = DEMO_PASSWORD
    try:
        assert runner.invoke(args=["seed"]).exit_code == 0
    finally:
        runner.app.config.pop("SEED_PASSWORD")
    assert runner.invoke(args=["demo-exports"]).exit_code == 0
    ingest()
    db.session.expire_all()
    hospital_of = {s.name: s.hospital.code for s in db.session.scalars(select(SourceSystem))}
    assert hospital_of[LEGACY_SYSTEM] == "SAGH" and hospital_of[SYNTHEA_SYSTEM] == "BMC"
    tom = db.session.scalar(select(User).filter_by(email="tom.doctor@example.com"))
    assert tom.organization.hospital.code == "BMC"

    platform = set(db.session.scalars(select(Patient.id))) - patients_of(db, SYNTHEA_SYSTEM)
    bayview = patients_of(db, SYNTHEA_SYSTEM) | patients_of(db, FHIR_SYSTEM)
    bob = db.session.scalar(select(User).filter_by(email="bob.doctor@example.com"))
    auth.login(bob, password=DEMO_PASSWORD)
    bob_sees = listed_ids(search_patients(client, name="a")) | listed_ids(client.get("/patients"))
    assert bob_sees and bob_sees <= platform and not bob_sees & bayview
    auth.logout()
    auth.login(tom, password=DEMO_PASSWORD)
    tom_sees = listed_ids(search_patients(client, name="a"))
    assert tom_sees and tom_sees <= bayview and not tom_sees & platform
    assert client.get(f"/patients/{min(platform)}").status_code == 403
