"""Every form POST refuses a missing, a wrong and another session's CSRF token, changing nothing.

The route list comes from app.url_map, so a POST route added later is covered without editing
this file; only the machine hooks (bearer tokens, no cookies) are exempt.
"""

import pytest
from sqlalchemy import select

from tests.support.auth import open_session_for
from tests.support.factories import make_patient, make_user
from tests.support.pages import csrf_token
from tests.support.routes import app_rules, build_path
from webapp.extensions import db as database

MACHINE_PREFIX = "/hooks/"
# Rows a refused request may still write: its audit row and the session's last-seen time.
WRITTEN_ANYWAY = {"audit_event", "audit_seal", "audit_check", "user_session", "alembic_version"}


def post_paths(app) -> list[str]:
    """Every POST route a browser can reach, with sample ids filled in."""
    return sorted(
        build_path(rule)
        for rule in app_rules(app)
        if "POST" in rule.methods and not rule.rule.startswith(MACHINE_PREFIX)
    )


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every table (the test database is small), to prove nothing changed."""
    database.session.expire_all()
    return {
        table.name: sorted(map(tuple, database.session.execute(select(table)).all()), key=repr)
        for table in database.metadata.sorted_tables
        if table.name not in WRITTEN_ANYWAY
    }


def other_sessions_token(app) -> str:
    """A valid CSRF token, but of somebody else's session."""
    stranger = app.test_client()
    return csrf_token(stranger.get("/login").get_data(as_text=True))


@pytest.mark.parametrize("role", ["DOCTOR", "AIPHAS"])
def test_every_post_refuses_bad_csrf_tokens_and_changes_nothing(app, client, db, role):
    make_patient("Csrf", "Target")
    make_user("DOCTOR")  # user 1 may be the signed-in one; give the id routes another target
    open_session_for(client, make_user(role))
    paths = post_paths(app)
    assert "/login" in paths and "/logout" in paths and "/admin/users/new" in paths
    before = snapshot()
    foreign = other_sessions_token(app)
    for path in paths:
        for token in (None, "not-a-token", foreign):
            data = {"csrf_token": token} if token else {}
            response = client.post(path, data=data, headers={"Accept": "text/html"})
            assert response.status_code == 400, (path, token, response.status_code)
        # The HTMX way of sending it, as a header, is checked the same way.
        response = client.post(path, headers={"X-CSRFToken": foreign})
        assert response.status_code == 400, (path, "header", response.status_code)
    assert snapshot() == before
    # Still signed in: a refused POST (sign-out included) ends nothing.
    assert client.get("/account/sessions").status_code == 200
