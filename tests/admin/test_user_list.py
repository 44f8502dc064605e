"""The account list: search, filters, sort, pages, and the HTMX partial of the same template."""

import re
from datetime import timedelta

import pytest

from tests.support.factories import make_user
from webapp.common.clock import utcnow
from webapp.services.accounts.directory import PER_PAGE

HTMX = {"HX-Request": "true"}


def row_emails(html: str) -> list[str]:
    """Emails in table order."""
    return re.findall(r"<td>([^<]+@[^<]+)</td>", html)


@pytest.fixture
def admin(auth):
    return auth.login("AIPHAS")


def test_list_shows_every_column(client, admin):
    doctor = make_user("DOCTOR", name="Zoe Cardio", last_login_at=utcnow())
    html = client.get("/admin/users").get_data(as_text=True)
    row = re.search(rf'<tr id="user-{doctor.id}">(.*?)</tr>', html, re.S).group(1)
    for text in ("Zoe Cardio", doctor.email, "DOCTOR", "Cardiology", "active", "UTC"):
        assert text in row
    assert 'name="q"' in html and 'hx-trigger="input changed delay:300ms, search"' in html


def test_search_matches_name_or_email_case_insensitively(client, admin):
    make_user("DOCTOR", name="Greta Lind", email="greta@example.test")
    make_user("DOCTOR", name="Other Person", email="lindqvist@example.test")
    make_user("DOCTOR", name="Nobody", email="nobody@example.test")
    html = client.get("/admin/users?q=LIND").get_data(as_text=True)
    assert sorted(row_emails(html)) == ["greta@example.test", "lindqvist@example.test"]


def test_search_treats_wildcards_as_text(client, admin):
    make_user("DOCTOR", email="plain@example.test")
    html = client.get("/admin/users?q=%25").get_data(as_text=True)
    assert row_emails(html) == [] and "No users match." in html


def test_filter_by_role_and_status(client, admin):
    gone = make_user("DOCTOR", active=False)
    locked = make_user("DOCTOR", locked_until=utcnow() + timedelta(minutes=10))
    fine = make_user("DOCTOR")
    assert row_emails(client.get("/admin/users?status=deactivated").text) == [gone.email]
    assert row_emails(client.get("/admin/users?status=locked").text) == [locked.email]
    active = row_emails(client.get("/admin/users?status=active&role=DOCTOR").text)
    assert active == [fine.email]
    assert row_emails(client.get("/admin/users?role=AIPHAS").text) == [admin.email]


def test_sort_by_column_both_ways(client, admin):
    make_user("DOCTOR", email="b@example.test", name="B")
    make_user("DOCTOR", email="a@example.test", name="C")
    ascending = row_emails(client.get("/admin/users?sort=email&role=DOCTOR").text)
    descending = row_emails(client.get("/admin/users?sort=-email&role=DOCTOR").text)
    assert ascending == ["a@example.test", "b@example.test"]
    assert descending == ["b@example.test", "a@example.test"]


def test_pages_and_a_page_past_the_end_shows_the_last(client, admin):
    for number in range(PER_PAGE + 2):
        make_user("DOCTOR", name=f"Doc {number:03d}")
    first = client.get("/admin/users?role=DOCTOR").text
    assert len(row_emails(first)) == PER_PAGE and "Page 1 of 2" in first
    last = client.get("/admin/users?role=DOCTOR&page=999").text
    assert len(row_emails(last)) == 2 and "Page 2 of 2" in last
    assert "page=2" not in re.search(r'<nav class="pager".*?</nav>', last, re.S).group(0)


@pytest.mark.parametrize(
    "query",
    ["page=abc", "page=-3", "sort=password_hash", "status=nope", "role=ROOT", "q=" + "x" * 500],
)
def test_bad_query_values_fall_back_to_defaults(client, admin, query):
    response = client.get("/admin/users?" + query)
    assert response.status_code == 200
    assert admin.email in response.text or "No users match." in response.text


def test_htmx_request_gets_only_the_results_with_a_clean_url(client, admin):
    make_user("DOCTOR", email="greta@example.test")
    response = client.get("/admin/users?q=greta&role=&status=&sort=name", headers=HTMX)
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="user-results">')
    assert "<html" not in html and "<form" not in html
    assert row_emails(html) == ["greta@example.test"]
    assert response.headers["HX-Push-Url"] == "/admin/users?q=greta"
    assert "HX-Request" in response.headers["Vary"]


def test_history_restore_gets_the_whole_page(client, admin):
    headers = {**HTMX, "HX-History-Restore-Request": "true"}
    assert "<html" in client.get("/admin/users?q=a", headers=headers).text


def test_reload_of_a_shared_link_keeps_the_filters(client, admin):
    html = client.get("/admin/users?q=greta&role=DOCTOR&status=locked&sort=-email").text
    assert 'value="greta"' in html
    assert '<option value="DOCTOR" selected>' in html
    assert '<option value="locked" selected>' in html
    assert 'name="sort" value="-email" form="user-filters"' in html
