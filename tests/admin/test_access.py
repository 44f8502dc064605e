"""Every /admin route refuses doctors (403, audited) and sends anonymous callers to sign in."""

import pytest

from tests.support.admin import events

SAMPLE_RUN = "20260101T000000Z-0000abcd"
ADMIN_GETS = [
    "/admin/users",
    "/admin/users/new",
    "/admin/users/1",
    "/admin/audit",
    "/admin/audit.csv",
    "/admin/runs",
    "/admin/runs/sources",
    f"/admin/runs/{SAMPLE_RUN}",
    "/admin/sources",
    "/admin/access/emergency",
    f"/admin/runs/{SAMPLE_RUN}/rejects.csv",
    "/admin/security",
]
ADMIN_POSTS = [
    "/admin/users/new",
    "/admin/users/1",
    "/admin/users/1/deactivate",
    "/admin/users/1/reactivate",
    "/admin/users/1/unlock",
    "/admin/users/1/reset-password",
    "/admin/users/1/end-sessions",
    "/admin/users/1/reset-mfa",
    "/admin/runs",
    "/admin/security",
    "/admin/sources",
    "/admin/sources/1",
    "/admin/access/emergency/1/review",
    f"/admin/runs/{SAMPLE_RUN}/cancel",
]
# Routes whose id is not a user's.
OTHER_IDS = {
    "/admin/sources/1": "/admin/sources/<int:source_id>",
    "/admin/access/emergency/1/review": "/admin/access/emergency/<int:grant_id>/review",
}


def test_the_lists_cover_every_admin_route(app):
    rules = {r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/admin")}
    listed = {
        OTHER_IDS.get(path) or path.replace("/1", "/<int:user_id>").replace(SAMPLE_RUN, "<run_id>")
        for path in ADMIN_GETS + ADMIN_POSTS
    }
    assert rules == listed


@pytest.mark.parametrize("path", ADMIN_GETS)
def test_doctor_gets_403_on_every_admin_page(client, auth, db, path):
    auth.login("DOCTOR")
    response = client.get(path)
    assert response.status_code == 403
    assert [e.path for e in events("access.denied")] == [path]


@pytest.mark.parametrize("path", ADMIN_POSTS)
def test_doctor_gets_403_on_every_admin_change(client, auth, db, path):
    auth.login("DOCTOR")
    response = auth.post(path, {"name": "x"}, token_page="/patients")
    assert response.status_code == 403
    assert len(events("access.denied")) == 1


@pytest.mark.parametrize("path", ADMIN_GETS)
def test_anonymous_is_sent_to_sign_in(client, db, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("path", ADMIN_POSTS)
def test_anonymous_post_changes_nothing(client, auth, db, path):
    response = auth.post(path, {"name": "x"}, token_page="/login")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert events("user.updated") == [] and events("user.deactivated") == []
