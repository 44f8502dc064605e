"""/admin/access/emergency: AIPHAS review who broke the glass, for which patient and why."""

from datetime import date

from sqlalchemy import select

from tests.support.admin import events
from tests.support.factories import make_patient, make_user
from webapp.models import BreakGlassGrant
from webapp.services.patients.break_glass import grant_access


def test_the_list_shows_grants_by_patient_id_and_hospital_never_name(client, auth, db):
    patient = make_patient(
        "Theo", "Faraway", date(1985, 6, 7), source=("bayview-emr", "B1"), hospital="BMC"
    )
    doctor = make_user("DOCTOR", name="Dana Doctor")
    grant = grant_access(doctor.id, patient.id, "referral", "Transferred from Bayview tonight")
    auth.login("AIPHAS")
    html = client.get("/admin/access/emergency").get_data(as_text=True)
    row = html[html.index(f'id="grant-{grant.id}"') :]
    row = row[: row.index("</tr>")]
    for shown in (
        f"#{patient.id}",
        "Bayview Medical Center",
        "Dana Doctor",
        "St. Aiken General Hospital",
        "Patient referred",
        "Transferred from Bayview",
        "Mark reviewed",
    ):
        assert shown in row, shown
    assert "Theo" not in html and "Faraway" not in html and "1985" not in html
    [viewed] = events("access.emergency_view")
    assert viewed.details["show"] == "open"


def test_review_marks_the_grant_and_is_audited(client, auth, db):
    patient = make_patient(source=("bayview-emr", "B1"), hospital="BMC")
    doctor = make_user("DOCTOR")
    grant = grant_access(doctor.id, patient.id, "emergency", "Unconscious in ER")
    reviewer = auth.login("AIPHAS")
    response = auth.post(
        f"/admin/access/emergency/{grant.id}/review", {}, token_page="/admin/access/emergency"
    )
    assert response.status_code == 303
    db.session.expire_all()
    stored = db.session.scalars(select(BreakGlassGrant)).one()
    assert stored.reviewed_at is not None and stored.reviewed_by_id == reviewer.id
    [event] = events("access.break_glass_review")
    assert event.patient_id == patient.id and event.target_user_id == doctor.id
    open_list = client.get("/admin/access/emergency").get_data(as_text=True)
    assert f'id="grant-{grant.id}"' not in open_list
    everything = client.get("/admin/access/emergency?show=all").get_data(as_text=True)
    assert f'id="grant-{grant.id}"' in everything and "Yes," in everything


def test_review_needs_csrf_and_doctors_cannot_see_the_list(client, auth, db):
    patient = make_patient(source=("bayview-emr", "B1"), hospital="BMC")
    grant = grant_access(make_user("DOCTOR").id, patient.id, "emergency", "Unconscious in ER")
    auth.login("AIPHAS")
    response = client.post(f"/admin/access/emergency/{grant.id}/review")
    assert response.status_code == 400
    assert db.session.scalars(select(BreakGlassGrant)).one().reviewed_at is None
    auth.logout()
    auth.login("DOCTOR")
    assert client.get("/admin/access/emergency").status_code == 403
