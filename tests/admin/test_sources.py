"""/admin/sources and `flask sources`: register, reassign and list source systems, audited."""

import re

from sqlalchemy import select

from tests.support.admin import events
from tests.support.factories import make_patient, make_source
from webapp.models import SourceSystem


def source(db, name) -> SourceSystem | None:
    db.session.expire_all()
    return db.session.scalar(select(SourceSystem).filter_by(name=name))


def hospital_option(html: str, code: str) -> str:
    return re.search(rf'<option value="(\d+)">[^<]*\({code}\)</option>', html).group(1)


def test_register_a_source_under_a_hospital(client, auth, db):
    auth.login("AIPHAS")
    page = client.get("/admin/sources").get_data(as_text=True)
    bmc = hospital_option(page, "BMC")
    response = auth.post(
        "/admin/sources",
        {"name": "bayview-lab", "hospital": bmc, "description": "Lab results"},
    )
    assert response.status_code == 303
    assert source(db, "bayview-lab").hospital.code == "BMC"
    [event] = events("source.register")
    assert event.details == {"source_system": "bayview-lab", "hospital": "BMC"}
    html = client.get("/admin/sources").get_data(as_text=True)
    assert "bayview-lab" in html and "Lab results" in html


def test_bad_or_duplicate_names_are_refused_with_a_message(client, auth, db):
    auth.login("AIPHAS")
    make_source("taken")
    for name, message in (("taken", "already registered"), ("a/b", "no spaces or"), ("", "")):
        response = auth.post("/admin/sources", {"name": name, "hospital": ""})
        assert response.status_code == 400, name
        assert message in response.get_data(as_text=True), name
    assert events("source.register") == []
    response = auth.post("/admin/sources", {"name": "x", "hospital": "999"})
    assert response.status_code == 400  # not one of the choices


def test_reassigning_moves_the_patients_and_is_audited(client, auth, db):
    patient = make_patient(source=("wandering", "W1"))  # the factory doctors' hospital
    wandering = source(db, "wandering")
    auth.login("AIPHAS")
    page = client.get("/admin/sources").get_data(as_text=True)
    bmc = hospital_option(page, "BMC")
    response = auth.post(
        f"/admin/sources/{wandering.id}",
        {f"s{wandering.id}-hospital": bmc},
        token_page="/admin/sources",
    )
    assert response.status_code == 303
    assert source(db, "wandering").hospital.code == "BMC"
    [event] = events("source.assign")
    assert event.details == {"source_system": "wandering", "old": "SAGH", "new": "BMC"}
    auth.logout()
    auth.login("DOCTOR")
    assert client.get(f"/patients/{patient.id}").status_code == 403
    # Unassigning takes the patients from everybody.
    auth.logout()
    auth.login("AIPHAS")
    auth.post(
        f"/admin/sources/{wandering.id}",
        {f"s{wandering.id}-hospital": ""},
        token_page="/admin/sources",
    )
    assert source(db, "wandering").hospital is None


def test_reassign_without_csrf_or_of_a_missing_source(client, auth, db):
    make_source("kept")
    kept = source(db, "kept")
    auth.login("AIPHAS")
    response = client.post(f"/admin/sources/{kept.id}", data={f"s{kept.id}-hospital": ""})
    assert response.status_code == 400
    assert source(db, "kept").hospital is not None
    assert auth.post("/admin/sources/999999", {}, token_page="/admin/sources").status_code == 404


def test_flask_sources_add_and_list(runner, db):
    result = runner.invoke(args=["sources", "add", "st-aiken-lab", "--hospital", "sagh"])
    assert result.exit_code == 0, result.output
    assert source(db, "st-aiken-lab").hospital.code == "SAGH"
    moved = runner.invoke(args=["sources", "add", "st-aiken-lab", "--hospital", "BMC"])
    assert moved.exit_code == 0 and "Bayview" in moved.output
    assert source(db, "st-aiken-lab").hospital.code == "BMC"
    runner.invoke(args=["sources", "add", "mystery"])
    listing = runner.invoke(args=["sources", "list"]).output.splitlines()
    assert listing[0].split() == ["mystery", "UNASSIGNED"]
    assert listing[1].split()[:2] == ["st-aiken-lab", "BMC"]
    bad = runner.invoke(args=["sources", "add", "x", "--hospital", "NOPE"])
    assert bad.exit_code != 0 and "no hospital with code" in bad.output
    assert [e.action for e in events("source.register")] == ["source.register"] * 2
    assert events("source.assign")[0].actor_email == "cli"
