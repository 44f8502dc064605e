"""Server-side sessions (ASVS V3): every way a session ends, and what its cookie may carry."""

import base64
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.support.admin import edit_url
from tests.support.auth import AuthActions
from tests.support.factories import PASSWORD, make_patient, make_user
from tests.support.settings import app_settings
from webapp import create_app
from webapp.common.clock import utcnow
from webapp.models import AuditEvent, Role, UserSession

JSON = {"Accept": "application/json"}


def cookie_of(client) -> str:
    return client.get_cookie("session").value


def replay(app, cookie: str):
    """A fresh client carrying a saved cookie, as an attacker who copied it would."""
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief


def sessions_of(db, user) -> list[UserSession]:
    db.session.expire_all()
    stmt = select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.id)
    return list(db.session.scalars(stmt))


def backdate(db, user, **ago) -> None:
    for row in sessions_of(db, user):
        for column, delta in ago.items():
            setattr(row, column, getattr(row, column) - delta)
    db.session.commit()


def assert_refused(client, path, says: str) -> None:
    """HTML callers go to the sign-in page, which says why; JSON callers get 401."""
    response = client.get(path)
    assert response.status_code == 302, response.status_code
    assert "/login" in response.headers["Location"]
    assert says in client.get(response.headers["Location"]).text


def test_sign_out_ends_the_session_for_a_replayed_cookie(app, client, auth, db):
    patient = make_patient()
    auth.login("DOCTOR")
    saved = cookie_of(client)
    assert replay(app, saved).get(f"/patients/{patient.id}").status_code == 200
    auth.logout()
    assert_refused(replay(app, saved), f"/patients/{patient.id}", "You signed out.")
    response = replay(app, saved).get(f"/patients/{patient.id}", headers=JSON)
    assert response.status_code == 401
    assert response.json["error"] == "authentication required"


def test_cookie_carries_only_a_random_session_id(client, auth, db):
    user = auth.login("DOCTOR")
    payload = cookie_of(client).split(".")[0]
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert set(data) <= {"_user_id", "_fresh", "_permanent", "csrf_token", "_flashes"}
    token = data["_user_id"]
    assert len(token) >= 40 and str(user.id) != token and user.email not in json.dumps(data)
    [row] = sessions_of(db, user)
    assert row.token_hash != token and len(row.token_hash) == 64  # only a hash is stored
    assert row.client_address == "127.0.0.1" and row.user_agent


def test_page_views_do_not_re_send_the_cookie(app, client, auth, db):
    auth.login("DOCTOR")
    lifetime = client.get_cookie("session").expires - utcnow()
    # Set at sign-in to end with the server-side session's maximum age.
    assert app.config["SESSION_MAX_AGE"] - timedelta(minutes=1) < lifetime
    assert lifetime <= app.config["SESSION_MAX_AGE"]
    assert client.get("/patients").status_code == 200  # the first form adds the CSRF token
    cookie = cookie_of(client)
    response = client.get("/patients")
    # Unchanged, the session is not re-signed and re-sent: the server decides idleness.
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    assert cookie_of(client) == cookie


def test_sign_in_replaces_a_session_id_planted_before_it(app, client, auth, db):
    victim = make_user("DOCTOR")
    planted = "attacker-chosen-session-id-0123456789abcdef"
    with client.session_transaction() as session:
        session["_user_id"] = planted
    auth.login(victim)
    with client.session_transaction() as session:
        mine = session["_user_id"]
    assert mine != planted
    auth.logout()
    auth.login(victim)
    with client.session_transaction() as session:
        assert session["_user_id"] != mine  # a new id at every sign-in
    assert [r.ended_at is None for r in sessions_of(db, victim)] == [False, True]


def test_idle_session_is_refused_and_audited(client, auth, db):
    user = auth.login("DOCTOR")
    backdate(db, user, last_seen_at=timedelta(minutes=31))
    assert_refused(client, "/patients", "without activity")
    [row] = sessions_of(db, user)
    assert row.end_reason == "idle"
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "session.ended"))
    assert event.one().details["reason"] == "idle"


def test_idle_json_caller_gets_401(client, auth, db):
    user = auth.login("DOCTOR")
    backdate(db, user, last_seen_at=timedelta(minutes=31))
    response = client.get("/patients", headers=JSON)
    assert response.status_code == 401 and response.json["reason"] == "idle"


def test_session_older_than_the_maximum_age_is_refused(client, auth, db):
    user = auth.login("DOCTOR")
    backdate(db, user, created_at=timedelta(hours=12, minutes=1))
    assert_refused(client, "/patients", "maximum length")


def test_last_seen_is_written_at_most_once_a_minute(client, auth, db):
    user = auth.login("DOCTOR")
    backdate(db, user, last_seen_at=timedelta(seconds=20))
    before = sessions_of(db, user)[0].last_seen_at
    assert client.get("/patients").status_code == 200
    assert sessions_of(db, user)[0].last_seen_at == before
    backdate(db, user, last_seen_at=timedelta(seconds=50))
    assert client.get("/patients").status_code == 200
    assert sessions_of(db, user)[0].last_seen_at > before


def signed_in(app, user):
    other = app.test_client()
    AuthActions(other).login(user)
    return other


def test_password_change_ends_the_other_sessions_only(app, client, auth, db):
    user = auth.login("DOCTOR")
    elsewhere = signed_in(app, user)
    new = "a much better passphrase"
    auth.post(
        "/account/password",
        {"current_password": PASSWORD, "new_password": new, "confirm_password": new},
    )
    assert client.get("/patients").status_code == 200
    assert_refused(elsewhere, "/patients", "password was changed")


@pytest.fixture
def admin(auth):
    return auth.login("AIPHAS")


def test_deactivation_ends_every_session(app, client, auth, admin, db):
    doctor = make_user("DOCTOR")
    elsewhere = signed_in(app, doctor)
    auth.post(f"{edit_url(doctor)}/deactivate", {}, token_page=edit_url(doctor))
    assert_refused(elsewhere, "/patients", "deactivated")


def test_role_change_ends_every_session(app, client, auth, admin, db):
    aiphas = make_user("AIPHAS")
    elsewhere = signed_in(app, aiphas)
    assert elsewhere.get("/admin/users").status_code == 200
    doctor_role = db.session.scalar(select(Role).filter_by(name="DOCTOR"))
    assert doctor_role
    organization = str(make_user("DOCTOR").organization_id)
    fields = {"name": aiphas.name, "email": aiphas.email, "role": "DOCTOR"}
    response = auth.post(edit_url(aiphas), {**fields, "organization": organization})
    assert response.status_code == 302
    assert_refused(elsewhere, "/patients", "role changed")


def test_aiphas_can_end_all_sessions_of_a_user(app, client, auth, admin, db):
    doctor = make_user("DOCTOR")
    one, two = signed_in(app, doctor), signed_in(app, doctor)
    response = auth.post(f"{edit_url(doctor)}/end-sessions", {}, token_page=edit_url(doctor))
    assert response.status_code == 302
    for other in (one, two):
        assert_refused(other, "/patients", "administrator ended your sessions")
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.sessions_ended"))
    row = event.one()
    assert row.target_user_id == doctor.id and row.actor_user_id == admin.id
    assert row.details == {"sessions": 2}
    assert "End all sessions" in client.get(edit_url(doctor)).text


def test_end_all_is_refused_to_doctors(client, auth, db):
    target = make_user("DOCTOR")
    auth.login("DOCTOR")
    response = auth.post(f"{edit_url(target)}/end-sessions", {}, token_page="/patients")
    assert response.status_code == 403


def test_own_sessions_page_lists_and_ends_sessions(app, client, auth, db):
    user = auth.login("DOCTOR")
    elsewhere = signed_in(app, user)
    page = client.get("/account/sessions")
    assert page.status_code == 200
    assert page.text.count('<tr id="session-') == 2
    assert page.text.count("this session") == 1
    current, other = sorted(sessions_of(db, user), key=lambda r: r.id)
    row_of = {
        r.id: page.text.split(f'id="session-{r.id}"')[1].split("</tr>")[0] for r in (current, other)
    }
    assert "this session" in row_of[current.id] and "this session" not in row_of[other.id]
    response = auth.post(f"/account/sessions/{other.id}/end", {}, token_page="/account/sessions")
    assert response.status_code == 302
    assert_refused(elsewhere, "/patients", "ended from your sessions page")
    assert client.get("/patients").status_code == 200


def test_nobody_ends_another_users_session(app, client, auth, db):
    victim = make_user("DOCTOR")
    signed_in(app, victim)
    [theirs] = sessions_of(db, victim)
    auth.login("DOCTOR")
    response = auth.post(f"/account/sessions/{theirs.id}/end", {}, token_page="/account/sessions")
    assert response.status_code == 404
    assert sessions_of(db, victim)[0].ended_at is None


def test_ending_a_session_needs_the_csrf_token(client, auth, db):
    user = auth.login("DOCTOR")
    [row] = sessions_of(db, user)
    assert client.post(f"/account/sessions/{row.id}/end").status_code == 400
    assert sessions_of(db, user)[0].ended_at is None


def test_production_cookie_is_host_prefixed_and_strict(monkeypatch, database_url, db):
    monkeypatch.setenv("AIKEY_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "production-test-key")
    app = create_app(app_settings(database_url))
    client = app.test_client()
    user = make_user("DOCTOR")
    response = AuthActions(client).post("/login", {"email": user.email, "password": PASSWORD})
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if "aikey_session=" in c]
    assert cookie.startswith("__Host-aikey_session=")
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"secure", "httponly", "path", "samesite"} <= attributes and "domain" not in attributes
    assert "Path=/;" in cookie + ";" and "SameSite=Lax" in cookie


def test_sessions_work_with_redis_down(database_url, db):
    dead = "redis://127.0.0.1:1/0"
    app = create_app(app_settings(database_url, REDIS_URL=dead, CACHE_REDIS_URL=dead))
    client = app.test_client()
    auth = AuthActions(client)
    auth.login("DOCTOR")
    assert client.get("/patients").status_code == 200
    saved = cookie_of(client)
    auth.logout()
    assert replay(app, saved).get("/patients").status_code == 302


def test_the_session_statement_reads_permissions_and_unexpired_grants(on_backend):
    from datetime import UTC, datetime

    from webapp.models import BreakGlassGrant
    from webapp.models.permissions import ROLE_PERMISSIONS
    from webapp.services.accounts.sessions import find_session_and_setting, open_session
    from webapp.services.demo.seeding import seed_reference_data

    seed_reference_data()
    doctor, kept, lapsed = make_user("DOCTOR"), make_patient(), make_patient()
    now = datetime.now(UTC)
    for patient, expires in ((kept, now + timedelta(hours=1)), (lapsed, now - timedelta(hours=1))):
        on_backend.session.add(
            BreakGlassGrant(
                user_id=doctor.id,
                patient_id=patient.id,
                reason_code="emergency",
                reason_text="test",
                expires_at=expires,
            )
        )
    _row, token = open_session(doctor, "127.0.0.1", "test")
    on_backend.session.commit()
    kept_id = kept.id
    on_backend.session.expunge_all()

    row, _setting = find_session_and_setting(token, None)
    assert row.user.permissions_loaded == frozenset(ROLE_PERMISSIONS["DOCTOR"])
    assert row.user.grant_patient_ids_loaded == {kept_id}
    assert row.user.has_permission("patients:read") and not row.user.has_permission("audit:read")
