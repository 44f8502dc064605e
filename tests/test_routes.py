"""Every route of the app answers each kind of caller as its guard says.

A route added without a guard from webapp.auth.decorators fails here.
"""

import pytest
from werkzeug.routing import Rule

from tests.support.auth import AuthActions, open_session_for
from tests.support.factories import make_user
from tests.support.routes import app_rules, build_path
from tests.support.second_factor import enrol
from tests.support.settings import app_settings
from webapp import create_app
from webapp.models.permissions import ROLE_PERMISSIONS

ROLES = ("anonymous", *ROLE_PERMISSIONS)


@pytest.fixture(scope="module")
def guard_app(database_url):
    """The app with CSRF off, so the guards themselves answer each request."""
    return create_app(app_settings(database_url, WTF_CSRF_ENABLED=False))


def request_as(
    app, rule: Rule, role: str, accept: str = "text/html", second_factor: bool = True, user=None
):
    client = app.test_client()
    if role != "anonymous":
        user = user or make_user(role)
        open_session_for(client, user, second_factor=second_factor)
    method = "GET" if "GET" in rule.methods else sorted(rule.methods - {"OPTIONS", "HEAD"})[0]
    return client.open(build_path(rule), method=method, headers={"Accept": accept})


def test_every_route_declares_its_guard(app):
    unguarded = [
        rule.rule
        for rule in app_rules(app)
        if not hasattr(app.view_functions[rule.endpoint], "access")
    ]
    assert unguarded == [], f"routes without a guard from webapp.auth.decorators: {unguarded}"


def expected_outcome(access: tuple[str, str | None], role: str) -> str:
    kind, permission = access
    if kind in ("public", "machine"):
        return kind
    if role == "anonymous":
        return "login"
    if kind == "permission" and permission not in ROLE_PERMISSIONS[role]:
        return "forbidden"
    return "allowed"


def test_every_route_answers_every_role_as_its_guard_says(guard_app, db):
    checked = 0
    for rule in app_rules(guard_app):
        access = guard_app.view_functions[rule.endpoint].access
        for role in ROLES:
            outcome = expected_outcome(access, role)
            response = request_as(guard_app, rule, role)
            location = response.headers.get("Location", "")
            where = f"{rule.rule} as {role}"
            if outcome == "login":
                assert response.status_code == 302 and "/login?next=" in location, where
                as_json = request_as(guard_app, rule, role, accept="application/json")
                assert as_json.status_code == 401 and as_json.is_json, where
            elif outcome == "forbidden":
                assert response.status_code == 403, where
                assert "permission" in response.get_data(as_text=True), where
                as_json = request_as(guard_app, rule, role, accept="application/json")
                assert as_json.status_code == 403 and as_json.is_json, where
            elif outcome == "machine":
                assert response.status_code in (401, 403), where
            else:
                assert response.status_code not in (401, 403, 500), where
                assert "/login?next=" not in location, where
            checked += 1
    assert checked >= len(ROLES) * 5


def test_denied_request_is_audited(client, auth, db):
    from sqlalchemy import select

    from webapp.models import AuditEvent

    AuthActions(client).login("DOCTOR")
    assert client.get("/admin/users").status_code == 403
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "access.denied")).one()
    assert event.details["permission"] == "users:manage"
    assert event.path == "/admin/users"


# What a signed-in user who still owes the second factor may reach besides that step.
OPEN_BEFORE_SECOND_FACTOR = {"auth.logout", "core.healthz"}


@pytest.mark.parametrize(
    ("role", "enrolled", "step"),
    [
        ("AIPHAS", False, "/account/mfa"),
        ("AIPHAS", True, "/login/code"),
        ("DOCTOR", True, "/login/code"),
    ],
)
def test_no_page_opens_before_the_second_factor(guard_app, db, role, enrolled, step):
    user = make_user(role)
    if enrolled:
        enrol(user)
    checked = 0
    for rule in app_rules(guard_app):
        kind = guard_app.view_functions[rule.endpoint].access[0]
        if kind in ("public", "machine") or rule.endpoint in OPEN_BEFORE_SECOND_FACTOR:
            continue
        response = request_as(guard_app, rule, role, second_factor=False, user=user)
        where = f"{rule.rule} as {role} without the second factor"
        if rule.rule == step:
            assert response.status_code == 200, where
            continue
        assert response.status_code == 302, where
        assert response.headers["Location"].startswith(step), where
        as_json = request_as(
            guard_app, rule, role, accept="application/json", second_factor=False, user=user
        )
        assert as_json.status_code == 401 and as_json.is_json, where
        checked += 1
    assert checked >= 10
