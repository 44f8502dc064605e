"""Markup that assistive technology and password managers rely on, page by page."""

import re

from tests.support.factories import make_patient
from webapp.models import PipelineRun


def test_every_page_starts_with_a_skip_link_to_main(client, auth, db):
    auth.login("DOCTOR")
    for path in ["/patients", "/costs", "/account/password"]:
        html = client.get(path).get_data(as_text=True)
        body = html[html.index("<body") :]
        first_link = re.search(r"<a [^>]*>", body).group(0)
        assert first_link == '<a class="skip-link" href="#main">'
        assert '<main id="main" tabindex="-1">' in html


def test_sign_in_fields_carry_autocomplete_tokens(client, db):
    html = client.get("/login").get_data(as_text=True)
    assert re.search(r'<input[^>]*autocomplete="username"[^>]*name="email"', html)
    assert re.search(r'<input[^>]*autocomplete="current-password"[^>]*name="password"', html)


def test_password_fields_carry_autocomplete_tokens(client, auth, db):
    auth.login("AIPHAS")
    html = client.get("/account/password").get_data(as_text=True)
    assert re.search(r'autocomplete="current-password"[^>]*name="current_password"', html)
    assert re.search(r'autocomplete="new-password"[^>]*name="new_password"', html)
    assert re.search(r'autocomplete="new-password"[^>]*name="confirm_password"', html)
    html = client.get("/admin/users/new").get_data(as_text=True)
    assert re.search(r'autocomplete="new-password"[^>]*name="password"', html)
    # Another person's account: the administrator's own saved details must not fill in.
    assert re.search(r'autocomplete="off"[^>]*name="email"', html)


def test_live_rows_and_the_live_chart_are_polite_live_regions(client, auth, db):
    auth.login("DOCTOR")
    costs = client.get("/costs").get_data(as_text=True)
    assert '<tbody id="cost-rows" aria-live="polite">' in costs
    chart = client.get(f"/patients/{make_patient().id}").get_data(as_text=True)
    assert re.search(r'<div aria-live="polite">\s*<div id="chart-cost-summary">', chart)


def test_polled_run_status_is_a_polite_live_region(client, auth, db):
    auth.login("AIPHAS")
    runs = client.get("/admin/runs").get_data(as_text=True)
    assert re.search(r'<div aria-live="polite">\s*<div id="runs-table"', runs)
    run = PipelineRun(id="r-live", trigger="manual", status="running")
    run.input_uris = []
    db.session.add(run)
    db.session.commit()
    page = client.get("/admin/runs/r-live").get_data(as_text=True)
    assert re.search(r'<div aria-live="polite">\s*<dl id="run-summary"[^>]*hx-trigger', page)


def test_print_stylesheet_is_linked_for_print_only(client, db):
    html = client.get("/login").get_data(as_text=True)
    assert '<link rel="stylesheet" href="/static/css/print.css" media="print">' in html
    assert client.get("/static/css/print.css").status_code == 200
