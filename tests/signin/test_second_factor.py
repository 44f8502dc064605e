"""TOTP second factor: enrolment, the code step, replay, recovery codes, reset and policy."""

import re

from sqlalchemy import select

from tests.support.auth import AuthActions
from tests.support.factories import PASSWORD, make_user
from tests.support.limits import limited_app
from tests.support.second_factor import enrol, fresh_code, secret_on_page
from webapp.models import AuditEvent, RecoveryCode, User

RECOVERY = re.compile(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>")


def actions(db) -> list[str]:
    return [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def password_step(auth, user, next_url=None):
    url = "/login" + (f"?next={next_url}" if next_url else "")
    return auth.post(url, {"email": user.email, "password": PASSWORD}, token_page="/login")


def enrol_through_page(client, auth, user) -> tuple[str, list[str]]:
    page = client.get("/account/mfa").get_data(as_text=True)
    assert "<svg" in page and 'name="code"' in page
    secret = secret_on_page(page)
    done = auth.post("/account/mfa", {"code": fresh_code(user, secret)})
    return secret, RECOVERY.findall(done.get_data(as_text=True))


def test_a_doctor_enrols_from_the_account_page(client, auth, db):
    user = auth.login("DOCTOR")
    wrong = auth.post("/account/mfa", {"code": "123456"})
    assert 'id="code-error"' in wrong.get_data(as_text=True)
    secret, codes = enrol_through_page(client, auth, user)
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = db.session.get(User, user.id, populate_existing=True)
    assert stored.has_second_factor
    # Neither the secret nor the recovery codes are stored in the clear.
    assert secret not in stored.totp_secret
    hashes = db.session.scalars(select(RecoveryCode.code_hash)).all()
    assert len(hashes) == 10 and len({h.partition("$")[0] for h in hashes}) == 10  # salted
    assert not any(code.replace("-", "") in h or code in h for code in codes for h in hashes)
    assert "mfa.enrolled" in actions(db)
    # Shown once: the page now only says the factor is on.
    again = client.get("/account/mfa").get_data(as_text=True)
    assert "totp-secret" not in again and not RECOVERY.search(again)


def test_the_qr_code_is_drawn_inline_under_the_unchanged_csp(client, auth, db):
    auth.login("AIPHAS")
    response = client.get("/account/mfa")
    assert response.status_code == 200  # enrolled and passed: the status page
    doctor_client = client.application.test_client()
    AuthActions(doctor_client).login("DOCTOR")
    page = doctor_client.get("/account/mfa")
    html = page.get_data(as_text=True)
    assert re.search(r"<svg[^>]*>.*</svg>", html, re.S)
    assert "<script" not in html.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]


def test_sign_in_with_a_code_and_nothing_opens_before_it(client, auth, db):
    user = make_user("DOCTOR")
    secret = enrol(user)
    step = password_step(auth, user, next_url="/patients")
    assert "/login/code" in step.headers["Location"]
    blocked = client.get("/patients")
    assert blocked.status_code == 302 and "/login/code" in blocked.headers["Location"]
    assert client.get("/patients", headers={"Accept": "application/json"}).status_code == 401
    done = auth.post(step.headers["Location"], {"code": fresh_code(user, secret)})
    assert done.headers["Location"].endswith("/patients")
    assert client.get("/patients").status_code == 200
    assert "mfa.success" in actions(db)


def test_a_used_code_cannot_be_used_again(client, auth, db):
    user = make_user("DOCTOR")
    secret = enrol(user)
    code = fresh_code(user, secret)
    password_step(auth, user)
    assert auth.post("/login/code", {"code": code}).status_code == 302
    auth.logout()
    password_step(auth, user)
    replay = auth.post("/login/code", {"code": code})
    assert replay.status_code == 200
    assert "already been used" in replay.get_data(as_text=True)
    assert client.get("/patients").status_code == 302


def test_each_recovery_code_works_once(client, auth, db):
    user = auth.login("DOCTOR")
    _, codes = enrol_through_page(client, auth, user)
    auth.logout()
    password_step(auth, user)
    assert auth.post("/login/code", {"code": codes[0].upper()}).status_code == 302
    assert client.get("/patients").status_code == 200
    auth.logout()
    password_step(auth, user)
    again = auth.post("/login/code", {"code": codes[0]})
    assert again.status_code == 200 and "already been used" in again.get_data(as_text=True)
    assert "mfa.recovery_code_used" in actions(db)


def test_aiphas_must_enrol_before_any_page(client, auth, db):
    admin = make_user("AIPHAS")
    first = password_step(auth, admin)
    assert first.headers["Location"].endswith("/account/mfa")
    for path in ("/admin/users", "/admin/audit", "/admin/runs", "/account/password", "/login/code"):
        response = client.get(path)
        assert response.status_code == 302 and "/account/mfa" in response.headers["Location"]
    page = client.get("/account/mfa").get_data(as_text=True)
    assert "needs a second factor" in page
    auth.post("/account/mfa", {"code": fresh_code(admin, secret_on_page(page))})
    assert client.get("/admin/users").status_code == 200


def test_wrong_codes_lock_the_account(client, auth, db):
    user = make_user("DOCTOR")
    enrol(user)
    password_step(auth, user)
    for _ in range(4):
        assert auth.post("/login/code", {"code": "000000"}).status_code == 200
    locked = auth.post("/login/code", {"code": "000000"}, follow=True)
    assert "locked" in locked.get_data(as_text=True)
    assert db.session.get(User, user.id, populate_existing=True).is_locked()
    assert client.get("/patients").status_code == 302


def test_aiphas_resets_a_second_factor_and_ends_the_sessions(app, client, auth, db):
    doctor = make_user("DOCTOR")
    enrol(doctor)
    doctor_client = app.test_client()
    AuthActions(doctor_client).login(doctor)
    assert doctor_client.get("/patients").status_code == 200
    auth.login("AIPHAS")
    response = auth.post(f"/admin/users/{doctor.id}/reset-mfa", {}, token_page="/admin/users")
    assert response.status_code == 302
    stored = db.session.get(User, doctor.id, populate_existing=True)
    assert stored.totp_secret is None and not stored.has_second_factor
    assert db.session.scalars(select(RecoveryCode).filter_by(user_id=doctor.id)).all() == []
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "user.mfa_reset")
    ).one()
    assert event.target_user_id == doctor.id
    # The doctor's open session has ended.
    ended = doctor_client.get("/patients")
    assert ended.status_code == 302 and "/login" in ended.headers["Location"]


def test_aiphas_cannot_reset_their_own_second_factor(client, auth, db):
    admin = auth.login("AIPHAS")
    page = auth.post(
        f"/admin/users/{admin.id}/reset-mfa", {}, token_page="/admin/users", follow=True
    )
    assert "cannot reset your own" in page.get_data(as_text=True)
    assert db.session.get(User, admin.id, populate_existing=True).has_second_factor


def test_the_setting_requires_it_of_every_doctor(settings, db):
    app = limited_app(
        settings,
        REQUIRE_DOCTOR_MFA=True,
        LOGIN_RATE_LIMIT="1000 per minute",
        LOGIN_EMAIL_RATE_LIMIT="1000 per minute",
    )
    client = app.test_client()
    auth = AuthActions(client)
    doctor = make_user("DOCTOR")
    first = password_step(auth, doctor)
    assert first.headers["Location"].endswith("/account/mfa")
    assert "/account/mfa" in client.get("/patients").headers["Location"]


def test_demo_code_gives_the_code_locally_and_never_in_production(
    client, auth, runner, data_app, monkeypatch, db
):
    admin = make_user("AIPHAS", email="demo.aiphas@example.test")
    password_step(auth, admin)
    client.get("/account/mfa")  # the set-up page creates the pending secret
    db.session.expire_all()  # the runner shares the tests' session, which holds the old row
    result = runner.invoke(args=["demo-code", admin.email])
    assert result.exit_code == 0, result.output
    code = result.output.strip()
    assert auth.post("/account/mfa", {"code": code}).status_code == 200
    assert db.session.get(User, admin.id, populate_existing=True).has_second_factor
    monkeypatch.setitem(data_app.config, "AIKEY_PRODUCTION", True)
    refused = runner.invoke(args=["demo-code", admin.email])
    assert refused.exit_code != 0 and "production" in refused.output


def test_aiphas_requires_it_of_every_doctor_from_the_console(app, client, auth, db):
    auth.login("AIPHAS")
    page = client.get("/admin/security").get_data(as_text=True)
    assert "Every doctor must use two-step sign-in" in page
    saved = auth.post("/admin/security", {"require_doctor_mfa": "y"}, follow=True)
    assert "Sign-in policy saved." in saved.get_data(as_text=True)
    assert "settings.changed" in actions(db)
    doctor_client = app.test_client()
    doctor = make_user("DOCTOR")
    first = password_step(AuthActions(doctor_client), doctor)
    assert first.headers["Location"].endswith("/account/mfa")
    assert "/account/mfa" in doctor_client.get("/patients").headers["Location"]
    # Turned off again, doctors without an authenticator go straight in.
    auth.post("/admin/security", {})
    assert doctor_client.get("/patients").status_code == 200
