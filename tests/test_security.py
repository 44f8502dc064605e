"""Security headers, error negotiation and the health check."""

from unittest import mock

from sqlalchemy.exc import OperationalError

from webapp.config import normalize_database_url


def test_security_headers_on_every_response(client):
    for path in ("/login", "/ready", "/no-such-page"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"


def test_not_found_is_html_for_people_and_json_for_machines(client):
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.mimetype == "text/html"
    body = client.get("/no-such-page", headers={"Accept": "application/json"})
    assert body.status_code == 404 and body.json["status"] == 404


def test_ready_is_503_when_the_database_is_down(client):
    failure = OperationalError("SELECT 1", {}, Exception("connection refused"))
    with mock.patch("webapp.core.views.db.session.execute", side_effect=failure):
        response = client.get("/ready")
    assert response.status_code == 503
    assert response.json["database"].startswith("error")


def test_postgres_urls_are_accepted_in_both_spellings():
    assert normalize_database_url("postgres://u@h/d") == "postgresql+psycopg2://u@h/d"
    assert normalize_database_url("postgresql://u@h/d") == "postgresql+psycopg2://u@h/d"
    assert normalize_database_url("sqlite:///x.db") == "sqlite:///x.db"
