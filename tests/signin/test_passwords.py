"""The password policy (zxcvbn, with the user's own name and email) and temporary expiry."""

import re
from datetime import timedelta

import pytest

from tests.support.factories import PASSWORD, make_user
from webapp.common.clock import utcnow
from webapp.services.accounts.passwords import password_problems

NAME = "Florence Nightingale"
EMAIL = "florence.nightingale@example.test"


def field_error(html: str, field: str) -> str:
    match = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', html)
    return match.group(1) if match else ""


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Password1234", "too common"),
        (EMAIL, "email address"),
        (NAME, "your name"),
        ("nightingale1820", "too common"),
        ("qwertyuiop[]", "too common"),
    ],
)
def test_weak_passwords_get_an_error_next_to_the_field(client, auth, db, password, message):
    user = make_user("DOCTOR", email=EMAIL, name=NAME)
    auth.login(user)
    response = auth.post(
        "/account/password",
        {"current_password": PASSWORD, "new_password": password, "confirm_password": password},
    )
    assert response.status_code == 200
    assert message in field_error(response.get_data(as_text=True), "new_password")


def test_a_strong_passphrase_is_accepted(client, auth, db):
    user = auth.login("DOCTOR")
    new = "amber-otter-cascade-violin"
    response = auth.post(
        "/account/password",
        {"current_password": PASSWORD, "new_password": new, "confirm_password": new},
    )
    assert response.status_code == 302
    assert password_problems(new, user.email, user.name) == []


def test_an_expired_temporary_password_is_refused(client, auth, db):
    user = make_user(
        "DOCTOR", must_change_password=True, password_set_at=utcnow() - timedelta(hours=73)
    )
    response = auth.post("/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "temporary password has expired" in text and "AIPHAS" in text
    assert client.get("/patients").status_code == 302


def test_a_fresh_temporary_password_still_works(client, auth, db):
    user = make_user(
        "DOCTOR", must_change_password=True, password_set_at=utcnow() - timedelta(hours=71)
    )
    response = auth.post("/login", {"email": user.email, "password": PASSWORD})
    assert response.headers["Location"].endswith("/account/password")
