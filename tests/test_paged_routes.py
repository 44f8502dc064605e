"""Every paged list takes any `page` value: never a 500, always a page that exists."""

import re
from datetime import UTC, date, datetime, timedelta
from urllib.parse import quote

import pytest

from tests.support.factories import make_patient, make_record, make_user
from webapp.models import AuditEvent, IngestReject, PipelineRun
from webapp.services.costs.recompute import recompute_costs

# (raw page parameter, the page it must show): unusable values show the first page, numbers
# beyond the end the last one. Each list below is given exactly two pages of rows.
PAGE_VALUES = [
    ("", 1),
    ("0", 1),
    ("-1", 1),
    ("-9223372036854775809", 1),
    ("x", 1),
    ("2.5", 1),
    ("1e20", 1),
    ("9" * 5000, 1),  # too many digits for int(): a ValueError, not a 500
    ("\x00", 1),
    (" 2 ", 2),
    ("2", 2),
    ("3", 2),
    ("99999", 2),
    ("9223372036854775808", 2),
    ("100000000000000000000", 2),
]


def _users(db):
    for number in range(26):
        make_user("AIPHAS", name=f"Paged {number:02d}")
    return "AIPHAS", "/admin/users?q=paged"


def _audit(db):
    start = datetime(2024, 1, 1, tzinfo=UTC)
    db.session.add_all(
        AuditEvent(action="test.page", occurred_at=start + timedelta(minutes=n)) for n in range(60)
    )
    db.session.commit()
    return "AIPHAS", "/admin/audit?action=test.page"


def _runs(db):
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for number in range(26):
        run = PipelineRun(id=f"run-{number:02d}", trigger="scheduler", status="succeeded")
        run.started_at, run.input_uris = start + timedelta(minutes=number), []
        db.session.add(run)
    db.session.commit()
    return "AIPHAS", "/admin/runs"


def _rejects(db):
    run = PipelineRun(id="paged", trigger="scheduler", status="succeeded")
    run.input_uris = []
    db.session.add(run)
    db.session.commit()
    db.session.add_all(
        IngestReject(run_id="paged", stage="pipeline", position=n, reason="bad_cost")
        for n in range(60)
    )
    db.session.commit()
    return "AIPHAS", "/admin/runs/paged"


def _patients(db):
    for number in range(26):
        make_patient("Paged", f"Person{number:02d}")
    # Only what carries no identity comes in a URL; the search itself is POSTed.
    return "DOCTOR", "/patients?sort=-name"


def _chart(db):
    patient = make_patient()
    for day in range(21):
        make_record(patient, date(2024, 1, 1) + timedelta(days=day))
    return "DOCTOR", f"/patients/{patient.id}?kind=encounter"


def _costs(db):
    patient = make_patient()
    for month in range(51):
        make_record(patient, date(2020 + month // 12, month % 12 + 1, 1), "1.00")
    recompute_costs([patient.id])
    db.session.commit()
    return "DOCTOR", "/costs"


LISTS = {
    "users": _users,
    "audit": _audit,
    "runs": _runs,
    "run rejects": _rejects,
    "patients": _patients,
    "chart records": _chart,
    "costs": _costs,
}


def shown_page(html: str) -> int:
    return int(re.search(r'<nav class="pager".*?<span>Page (\d+)', html, re.S).group(1))


@pytest.mark.parametrize("name", LISTS)
def test_any_page_value_shows_a_page_that_exists(client, auth, db, name):
    role, url = LISTS[name](db)
    auth.login(role)
    for raw, expected in PAGE_VALUES:
        response = client.get(f"{url}{'&' if '?' in url else '?'}page={quote(raw)}")
        assert response.status_code == 200, (name, raw[:30])
        assert shown_page(response.get_data(as_text=True)) == expected, (name, raw[:30])


# Patient search pages are asked for by posting the search form (no patient detail in URLs).
LINKED_LISTS = [name for name in LISTS if name != "patients"]


@pytest.mark.parametrize("name", LINKED_LISTS)
def test_page_links_keep_the_query(client, auth, db, name):
    role, url = LISTS[name](db)
    auth.login(role)
    html = client.get(url).get_data(as_text=True)
    nav = re.search(r'<nav class="pager".*?</nav>', html, re.S).group(0)
    [next_href] = re.findall(r'href="([^"]+)"[^>]*rel="next"', nav)
    path, _, query = url.partition("?")
    assert next_href.startswith(path + "?")
    assert "page=2" in next_href and query.replace("&", "&amp;") in next_href
    back = client.get(next_href.replace("&amp;", "&")).get_data(as_text=True)
    [prev_href] = re.findall(r'href="([^"]+)"[^>]*rel="prev"', back)
    # The first page is the list's own address, with nothing but the query.
    assert prev_href.replace("&amp;", "&") == url


def test_patient_search_pages_post_the_form_again(client, auth, db):
    role, url = _patients(db)
    auth.login(role)
    html = client.get(url).get_data(as_text=True)
    nav = re.search(r'<nav class="pager".*?</nav>', html, re.S).group(0)
    assert 'href="' not in nav
    assert re.search(r'<button type="submit" form="search-form" name="page" value="2"', nav)
    assert re.search(r'<option value="-name" selected>', html)  # the form keeps the sort
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    second = client.post(
        "/patients", data={"sort": "-name", "page": "2"}, headers={"X-CSRFToken": token}
    ).get_data(as_text=True)
    assert shown_page(second) == 2 and "Person00" in second and "Person25" not in second
    assert re.search(r'form="search-form" name="page" value="1"', second)
