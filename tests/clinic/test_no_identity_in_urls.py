"""No patient details in URLs: search is POSTed and nothing rendered links to a name."""

import re
from datetime import date

from tests.support.factories import make_patient
from tests.support.pages import search_patients as search

URL_ATTRIBUTES = re.compile(r'(?:href|action|hx-get|hx-post|hx-push-url|src)="([^"]*)"')


def urls(html: str) -> list[str]:
    return URL_ATTRIBUTES.findall(html)


def test_search_by_name_dob_or_identifier_is_a_post_whose_page_links_no_detail(doctor, db):
    for number in range(30):
        make_patient(
            "Zebulon",
            f"Quarry{number:02d}",
            date(1971, 2, 3),
            source=("hospital-a", f"MRN-Z{number}"),
        )
    for fields in ({"name": "Zebulon"}, {"dob": "1971-02-03"}, {"identifier": "MRN-Z7"}):
        response = search(doctor, **fields)
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and "Quarry" in html, fields
        assert "HX-Push-Url" not in response.headers and "hx-push-url" not in html
        for url in urls(html):
            for detail in ("Zebulon", "zebulon", "1971", "MRN-Z"):
                assert detail not in url, (fields, url)
    paged = search(doctor, name="Zebulon", headers={"HX-Request": "true"}).get_data(as_text=True)
    # The next page is asked for by posting the form again, not by a link with the query.
    assert re.search(r'<button type="submit" form="search-form" name="page" value="2"', paged)
    assert '<form method="post" action="/patients"' in doctor.get("/patients").get_data(True)


def test_a_query_string_never_searches(doctor, db):
    make_patient("Zebulon", "Quarry")
    make_patient("Ana", "García")
    html = doctor.get("/patients?name=Zebulon&identifier=P1&dob=1980-05-17").get_data(True)
    assert "Ana García" in html  # the query was ignored: every patient of the hospital is listed
    assert 'value="Zebulon"' not in html


def test_search_without_a_csrf_token_is_refused(doctor, db):
    make_patient("Zebulon", "Quarry")
    response = doctor.post("/patients", data={"name": "Zebulon"})
    assert response.status_code == 400 and "Quarry" not in response.get_data(as_text=True)
