"""Refusals and sign-in events that the audit log must hold, beyond account changes."""

from tests.support.admin import events
from tests.support.factories import make_user


def test_json_request_refused_for_a_pending_password_change_is_audited(client, auth, db):
    user = make_user("DOCTOR", must_change_password=True)
    auth.login(user)
    response = client.get("/patients", headers={"Accept": "application/json"})
    assert response.status_code == 403
    [event] = events("access.denied")
    assert event.actor_user_id == user.id
    assert event.details == {"reason": "password change required"}


def test_sign_in_sign_out_and_lockout_are_all_in_the_log(app, client, auth, db):
    user = make_user("DOCTOR")
    for _ in range(app.config["LOCKOUT_THRESHOLD"]):
        auth.post("/login", {"email": user.email, "password": "wrong password!"})
    assert len(events("login.failure")) == app.config["LOCKOUT_THRESHOLD"]
    assert [e.target_user_id for e in events("account.locked")] == [user.id]
    other = make_user("DOCTOR")
    auth.login(other)
    auth.logout()
    assert [e.actor_user_id for e in events("login.success")] == [other.id]
    assert [e.actor_user_id for e in events("logout")] == [other.id]
