"""Sign-in, lockout, deactivation, idle expiry, forced password change and CSRF."""

from datetime import timedelta

from sqlalchemy import select

from tests.support.factories import PASSWORD, make_user
from tests.support.pages import csrf_token
from webapp.common.clock import utcnow
from webapp.models import AuditEvent, User, UserSession


def actions(db):
    return [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def test_doctor_lands_on_patients(client, auth):
    auth.login("DOCTOR")
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/patients")


def test_aiphas_lands_on_admin_users_after_the_second_factor(client, auth):
    response = auth.post(
        "/login", {"email": make_user("AIPHAS").email, "password": PASSWORD}, token_page="/login"
    )
    assert response.headers["Location"].endswith("/account/mfa")
    client.post("/logout", data={"csrf_token": auth.token("/account/mfa")})
    auth.login("AIPHAS")
    assert client.get("/").headers["Location"].endswith("/admin/users")


def test_email_is_case_insensitive(client, auth, db):
    user = make_user("DOCTOR", email="Mixed.Case@Example.test")
    response = auth.post("/login", {"email": "mixed.case@example.TEST", "password": PASSWORD})
    assert response.status_code == 302
    assert db.session.get(User, user.id).last_login_at is not None


def test_unknown_email_and_wrong_password_get_the_same_message(client, auth, db):
    make_user("DOCTOR", email="known@example.test")
    unknown = auth.post("/login", {"email": "nobody@example.test", "password": "whatever"})
    wrong = auth.post("/login", {"email": "known@example.test", "password": "not it"})
    assert unknown.status_code == wrong.status_code == 200
    assert "Invalid email or password." in unknown.get_data(as_text=True)
    assert "Invalid email or password." in wrong.get_data(as_text=True)
    assert actions(db).count("login.failure") == 2


def test_five_failures_lock_the_account_for_fifteen_minutes(client, auth, db):
    user = make_user("DOCTOR")
    for _ in range(4):
        auth.post("/login", {"email": user.email, "password": "wrong password"})
    fifth = auth.post("/login", {"email": user.email, "password": "wrong password"})
    assert "locked for 15 minutes" in fifth.get_data(as_text=True)
    locked = db.session.get(User, user.id)
    db.session.refresh(locked)
    assert locked.is_locked()
    remaining = locked.locked_until - utcnow()
    assert timedelta(minutes=14) < remaining <= timedelta(minutes=15)
    # Even the right password is refused while the lock holds.
    right = auth.post("/login", {"email": user.email, "password": PASSWORD})
    assert right.status_code == 200
    assert "Invalid email" not in right.get_data(as_text=True)
    assert "locked" in right.get_data(as_text=True)
    assert "account.locked" in actions(db)


def test_lock_expires(client, auth, db):
    user = make_user("DOCTOR", locked_until=utcnow() - timedelta(seconds=1))
    response = auth.post("/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 302


def test_deactivated_user_cannot_sign_in(client, auth, db):
    user = make_user("DOCTOR", active=False)
    response = auth.post("/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 200
    assert "deactivated" in response.get_data(as_text=True)
    assert client.get("/patients").status_code == 302


def test_deactivation_ends_an_open_session_on_the_next_request(client, auth, db):
    user = auth.login("DOCTOR")
    assert client.get("/patients").status_code == 200
    row = db.session.get(User, user.id)
    row.active = False  # even without the service ending the sessions, the guard refuses
    db.session.commit()
    response = client.get("/patients")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def backdate_sessions(db, user, **ago):
    """Move the user's server-side sessions into the past (last_seen_at, created_at)."""
    for row in db.session.scalars(select(UserSession).where(UserSession.user_id == user.id)):
        for column, delta in ago.items():
            setattr(row, column, getattr(row, column) - delta)
    db.session.commit()


def test_idle_session_expires_after_thirty_minutes(client, auth, db):
    user = auth.login("DOCTOR")
    backdate_sessions(db, user, last_seen_at=timedelta(minutes=31))
    response = client.get("/patients")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "signed out after a period without activity" in page


def test_active_session_is_kept(client, auth, db):
    user = auth.login("DOCTOR")
    backdate_sessions(db, user, last_seen_at=timedelta(minutes=29))
    assert client.get("/patients").status_code == 200


def test_session_cookie_flags(client, auth):
    user = make_user("DOCTOR")
    response = auth.post("/login", {"email": user.email, "password": PASSWORD})
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_must_change_password_is_sent_to_the_change_page_first(client, auth, db):
    user = make_user("DOCTOR", must_change_password=True)
    response = auth.post("/login", {"email": user.email, "password": PASSWORD})
    assert response.headers["Location"].endswith("/account/password")
    blocked = client.get("/patients")
    assert blocked.status_code == 302
    assert blocked.headers["Location"].endswith("/account/password")
    weak = auth.post(
        "/account/password",
        {"current_password": PASSWORD, "new_password": "short", "confirm_password": "short"},
    )
    assert weak.status_code == 200
    assert "at least 12 characters" in weak.get_data(as_text=True)
    changed = auth.post(
        "/account/password",
        {
            "current_password": PASSWORD,
            "new_password": "a much better passphrase",
            "confirm_password": "a much better passphrase",
        },
    )
    assert changed.headers["Location"].endswith("/patients")
    assert client.get("/patients").status_code == 200
    db.session.refresh(user)
    assert not user.must_change_password
    assert user.check_password("a much better passphrase")
    assert "password.changed" in actions(db)


def test_post_without_csrf_token_is_rejected(client, db):
    user = make_user("DOCTOR")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "did not come from this site" in response.get_data(as_text=True)


def test_csrf_token_from_another_session_is_rejected(app, client, db):
    user = make_user("DOCTOR")
    other = app.test_client()
    foreign = csrf_token(other.get("/login").get_data(as_text=True))
    client.get("/login")
    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": foreign}
    )
    assert response.status_code == 400


def test_logout_is_post_only_and_ends_the_session(client, auth, db):
    auth.login("DOCTOR")
    assert client.get("/logout").status_code == 405
    response = auth.logout()
    assert response.status_code == 302
    assert client.get("/patients").status_code == 302
    assert "logout" in actions(db)


def test_next_parameter_only_follows_local_paths(client, auth):
    user = make_user("DOCTOR")
    token = auth.token()
    evil = client.post(
        "/login?next=//evil.example/steal",
        data={"email": user.email, "password": PASSWORD, "csrf_token": token},
    )
    assert evil.headers["Location"].endswith("/patients")
    auth.logout()
    token = auth.token()
    local = client.post(
        "/login?next=/patients?q=ana",
        data={"email": user.email, "password": PASSWORD, "csrf_token": token},
    )
    assert local.headers["Location"].endswith("/patients?q=ana")


def test_login_success_and_failure_are_audited(client, auth, db):
    user = auth.login("DOCTOR")
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "login.success"))
    event = events.one()
    assert event.actor_user_id == user.id
    assert event.ip_address
