"""Creating accounts: typed or temporary password, field errors, audit row."""

import re

import pytest
from sqlalchemy import select

from tests.support.admin import events
from tests.support.factories import make_user
from webapp.models import Organization, User

NEW = "/admin/users/new"


@pytest.fixture
def admin(auth):
    return auth.login("AIPHAS")


def organization_id(db) -> str:
    return str(db.session.scalar(select(Organization.id).where(Organization.name == "Neurology")))


def form(db, **overrides) -> dict:
    data = {
        "name": "Dana Neuro",
        "email": "Dana.Neuro@Example.test ",
        "role": "DOCTOR",
        "organization": organization_id(db),
        "password_mode": "generate",
        "password": "",
    }
    return {**data, **overrides}


def created(db, email="dana.neuro@example.test") -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


def test_create_with_a_temporary_password_shows_it_once(client, auth, admin, db):
    response = auth.post(NEW, form(db))
    assert response.status_code == 200
    password = re.search(r'id="temporary-password"[^>]*>([^<]+)<', response.text).group(1)
    user = created(db)
    assert user.check_password(password) and user.must_change_password
    assert user.organization.name == "Neurology" and user.role.name == "DOCTOR"
    assert password not in client.get(f"/admin/users/{user.id}").text
    [event] = events("user.created")
    assert event.actor_user_id == admin.id and event.target_user_id == user.id
    assert event.details["email"] == "dana.neuro@example.test"
    assert event.details["temporary_password"] is True
    assert password not in str(event.details) and "hash" not in str(event.details)


def test_create_with_a_typed_password(client, auth, admin, db):
    response = auth.post(NEW, form(db, password_mode="set", password="a long enough secret"))
    assert response.status_code == 302
    user = created(db)
    assert user.check_password("a long enough secret") and not user.must_change_password
    assert events("user.created")[0].details["temporary_password"] is False


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"email": "not-an-email"}, "email", "Enter an email address."),
        ({"organization": ""}, "organization", "Doctors must belong to an organization."),
        ({"password_mode": "set", "password": "short"}, "password", "Use at least 12 characters."),
        ({"password_mode": "set", "password": "password1234"}, "password", "too common"),
        ({"password_mode": "set", "password": ""}, "password", "Type a password"),
        ({"role": "ROOT"}, "role", "Not a valid choice."),
    ],
)
def test_each_error_shows_next_to_its_field_and_keeps_the_input(
    client, auth, admin, db, overrides, field, message
):
    response = auth.post(NEW, form(db, **overrides))
    assert response.status_code == 200
    error = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', response.text)
    assert error and message in error.group(1)
    if field != "name":
        assert 'value="Dana Neuro"' in response.text
    assert created(db) is None and events("user.created") == []


def test_duplicate_email_is_a_field_error_whatever_the_case(client, auth, admin, db):
    make_user("DOCTOR", email="dana.neuro@example.test")
    response = auth.post(NEW, form(db, email="DANA.neuro@example.test"))
    assert 'id="email-error">Another account already uses this email address.' in response.text
    assert events("user.created") == []


def test_aiphas_needs_no_organization(client, auth, admin, db):
    response = auth.post(NEW, form(db, role="AIPHAS", organization=""))
    assert response.status_code == 200 and created(db).role.name == "AIPHAS"


def test_new_user_form_is_post_with_csrf(client, admin, db):
    response = client.post(NEW, data=form(db))
    assert response.status_code == 400 and created(db) is None
