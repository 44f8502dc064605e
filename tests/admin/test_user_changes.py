"""Editing accounts and the POST-only actions, each with its audit row and its rules."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.support.admin import edit_url, events, reload
from tests.support.auth import AuthActions
from tests.support.factories import PASSWORD, make_user
from webapp.common.clock import utcnow
from webapp.models import Organization


@pytest.fixture
def admin(auth):
    return auth.login("AIPHAS")


def details(user, **overrides) -> dict:
    data = {
        "name": user.name,
        "email": user.email,
        "role": user.role.name,
        "organization": str(user.organization_id or ""),
    }
    return {**data, **overrides}


def act(auth, user, action):
    return auth.post(f"{edit_url(user)}/{action}", {}, token_page=edit_url(user))


def signed_in_client(app, user):
    other = app.test_client()
    AuthActions(other).login(user)
    return other


def test_edit_records_old_and_new_values(client, auth, admin, db):
    doctor = make_user("DOCTOR", name="Old Name")
    oncology = db.session.scalar(select(Organization).where(Organization.name == "Oncology"))
    data = details(doctor, name="New Name", email="NEW@example.test", organization=oncology.id)
    response = auth.post(edit_url(doctor), data)
    assert response.status_code == 302
    doctor = reload(doctor)
    assert (doctor.name, doctor.email, doctor.organization.name) == (
        "New Name",
        "new@example.test",
        "Oncology",
    )
    [event] = events("user.updated")
    changes = event.details["changes"]
    assert changes["name"] == ["Old Name", "New Name"]
    assert changes["email"][1] == "new@example.test"
    assert changes["organization"][1].startswith("Oncology")
    assert "role" not in changes and event.actor_user_id == admin.id
    assert event.target_user_id == doctor.id


def test_saving_unchanged_details_writes_no_row(client, auth, admin, db):
    doctor = make_user("DOCTOR")
    auth.post(edit_url(doctor), details(doctor))
    assert events("user.updated") == []


def test_edit_refuses_a_duplicate_email_next_to_the_field(client, auth, admin, db):
    doctor = make_user("DOCTOR")
    response = auth.post(edit_url(doctor), details(doctor, email=admin.email.upper()))
    assert 'id="email-error">Another account already uses this email address.' in response.text
    assert reload(doctor).email != admin.email and events("user.updated") == []


def test_role_change_is_audited_and_ends_the_sessions(app, client, auth, admin, db):
    colleague = make_user("AIPHAS")
    other = signed_in_client(app, colleague)
    organization = str(db.session.scalar(select(Organization.id)))
    auth.post(edit_url(colleague), details(colleague, role="DOCTOR", organization=organization))
    assert reload(colleague).role.name == "DOCTOR"
    assert events("user.updated")[0].details["changes"]["role"] == ["AIPHAS", "DOCTOR"]
    assert other.get("/admin/users").status_code == 302


def test_aiphas_cannot_demote_themself(client, auth, admin, db):
    make_user("AIPHAS")
    organization = str(db.session.scalar(select(Organization.id)))
    response = auth.post(edit_url(admin), details(admin, role="DOCTOR", organization=organization))
    assert "You cannot demote your own AIPHAS account." in response.text
    assert reload(admin).role.name == "AIPHAS" and events("user.updated") == []


def test_deactivate_ends_the_session_on_the_next_request(app, client, auth, admin, db):
    doctor = make_user("DOCTOR")
    other = signed_in_client(app, doctor)
    assert other.get("/patients").status_code == 200
    response = act(auth, doctor, "deactivate")
    assert response.status_code == 302
    assert not reload(doctor).active
    assert other.get("/patients").status_code == 302
    [event] = events("user.deactivated")
    assert event.target_user_id == doctor.id and event.actor_user_id == admin.id
    assert "deactivated" in client.get(edit_url(doctor)).text


def test_deactivation_ends_the_users_server_side_sessions(client, auth, admin, db):
    from webapp.services.accounts.sessions import end_reason_now, open_session

    doctor = make_user("DOCTOR")
    row, _ = open_session(doctor, "127.0.0.1", "test")
    db.session.commit()
    assert end_reason_now(row) is None
    act(auth, doctor, "deactivate")
    db.session.refresh(row)
    assert row.ended_at is not None and row.end_reason == "deactivated"
    assert end_reason_now(row) == "deactivated"


def test_aiphas_cannot_deactivate_themself(client, auth, admin, db):
    make_user("AIPHAS")
    response = auth.post(
        f"{edit_url(admin)}/deactivate", {}, follow=True, token_page=edit_url(admin)
    )
    assert "You cannot deactivate your own AIPHAS account." in response.text
    assert reload(admin).active and events("user.deactivated") == []


def test_last_active_aiphas_cannot_be_removed(db):
    from webapp.services.accounts.changes import AccountError, deactivate_account

    only = make_user("AIPHAS")
    make_user("AIPHAS", active=False)
    with pytest.raises(AccountError, match="last active AIPHAS"):
        deactivate_account(only, actor=None)
    db.session.rollback()
    assert reload(only).active


def test_reactivate_lets_the_user_sign_in_again(app, client, auth, admin, db):
    doctor = make_user("DOCTOR", active=False)
    act(auth, doctor, "reactivate")
    assert reload(doctor).active
    assert events("user.reactivated")[0].target_user_id == doctor.id
    assert signed_in_client(app, doctor).get("/patients").status_code == 200


def test_unlock_lifts_the_lockout(client, auth, admin, db):
    doctor = make_user(
        "DOCTOR", locked_until=utcnow() + timedelta(minutes=10), failed_login_count=3
    )
    assert "Unlock" in client.get(edit_url(doctor)).text
    act(auth, doctor, "unlock")
    doctor = reload(doctor)
    assert doctor.locked_until is None and doctor.failed_login_count == 0
    assert "locked_until" in events("user.unlocked")[0].details


def test_unlock_of_an_unlocked_account_says_so(client, auth, admin, db):
    doctor = make_user("DOCTOR")
    response = auth.post(f"{edit_url(doctor)}/unlock", {}, follow=True, token_page=edit_url(doctor))
    assert "This account is not locked." in response.text and events("user.unlocked") == []


def test_reset_password_shows_a_temporary_one_and_forces_a_change(app, client, auth, admin, db):
    doctor = make_user("DOCTOR")
    other = signed_in_client(app, doctor)
    response = act(auth, doctor, "reset-password")
    password = re.search(r'id="temporary-password"[^>]*>([^<]+)<', response.text).group(1)
    doctor = reload(doctor)
    assert doctor.check_password(password) and not doctor.check_password(PASSWORD)
    assert doctor.must_change_password
    assert other.get("/patients").status_code == 302
    [event] = events("user.password_reset")
    assert event.target_user_id == doctor.id and password not in str(event.details)


@pytest.mark.parametrize("action", ["deactivate", "reactivate", "unlock", "reset-password"])
def test_actions_need_post_and_csrf(client, admin, db, action):
    doctor = make_user("DOCTOR", active=action != "reactivate")
    hash_before = doctor.password_hash
    assert client.get(f"{edit_url(doctor)}/{action}").status_code == 405
    assert client.post(f"{edit_url(doctor)}/{action}").status_code == 400
    doctor = reload(doctor)
    assert doctor.active == (action != "reactivate") and doctor.password_hash == hash_before


def test_unknown_user_is_404(client, auth, admin, db):
    assert client.get("/admin/users/99999").status_code == 404
    assert act(auth, type(admin)(id=99999), "deactivate").status_code == 404


def test_aiphas_cannot_reset_their_own_password_here(client, auth, admin, db):
    hash_before = admin.password_hash
    url = f"{edit_url(admin)}/reset-password"
    response = auth.post(url, {}, follow=True, token_page=edit_url(admin))
    assert "Change your own password" in response.text
    assert reload(admin).password_hash == hash_before and events("user.password_reset") == []
    assert client.get("/admin/users").status_code == 200


def test_users_nav_is_current_on_account_pages(client, admin, db):
    html = client.get(f"/admin/users/{admin.id}").text
    assert 'href="/admin/users" aria-current="page"' in html
