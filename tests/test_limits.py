"""Proxies, body size, request ids and post-sign-in redirects (ASVS V5, V7, V13; SECURITY.md)."""

import logging

import pytest
from sqlalchemy import select

from tests.support.auth import AuthActions
from tests.support.factories import PASSWORD, make_user
from tests.support.settings import app_settings
from webapp import create_app
from webapp.auth.decorators import public
from webapp.models import AuditEvent

MIB = 1024 * 1024


def login_row(db, email):
    stmt = select(AuditEvent).where(
        AuditEvent.action == "login.success", AuditEvent.actor_email == email
    )
    return db.session.scalars(stmt).one()


def sign_in_through(app, user, forwarded: str):
    client = app.test_client()
    auth = AuthActions(client)
    token = auth.token()
    return client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD, "csrf_token": token},
        headers={"X-Forwarded-For": forwarded},
        environ_base={"REMOTE_ADDR": "10.8.0.1"},
    )


def test_audit_address_is_the_one_the_trusted_proxy_saw(database_url, db):
    app = create_app(app_settings(database_url, TRUSTED_PROXY_HOPS=1))
    user = make_user("DOCTOR")
    assert sign_in_through(app, user, "198.51.100.66, 203.0.113.7").status_code == 302
    assert login_row(db, user.email).ip_address == "203.0.113.7"


def test_without_trusted_proxies_forwarded_headers_are_ignored(app, db):
    user = make_user("DOCTOR")
    assert sign_in_through(app, user, "198.51.100.66").status_code == 302
    assert login_row(db, user.email).ip_address == "10.8.0.1"


def test_a_two_mib_sign_in_form_gets_413_html(client, auth, db):
    token = auth.token()
    response = client.post(
        "/login", data={"email": "x" * (2 * MIB), "password": "p", "csrf_token": token}
    )
    assert response.status_code == 413
    assert response.mimetype == "text/html" and "too large" in response.text


class Zeros:
    """A request body read lazily, counting what the server actually read."""

    def __init__(self, size: int):
        self.size, self.position, self.read_bytes = size, 0, 0

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = 0) -> int:
        self.position = offset + (self.size if whence == 2 else 0)
        return self.position

    def read(self, size: int = -1) -> bytes:
        left = self.size - self.position
        size = left if size is None or size < 0 else min(size, left)
        self.position += size
        self.read_bytes += size
        return b"0" * size


@pytest.mark.parametrize("path", ["/hooks/pubsub/storage", "/hooks/scheduler/ingest"])
def test_a_fifty_mb_hook_body_gets_413_json_without_being_read(client, path):
    body = Zeros(50 * 1000 * 1000)
    response = client.post(
        path,
        input_stream=body,
        content_type="application/json",
        headers={"Authorization": "Bearer not-checked-first"},
    )
    assert response.status_code == 413
    assert response.json["status"] == 413
    assert body.read_bytes < MIB


def test_every_response_carries_a_request_id(client):
    first = client.get("/login").headers["X-Request-Id"]
    second = client.get("/login").headers["X-Request-Id"]
    assert first != second and len(first) >= 16
    sane = client.get("/login", headers={"X-Request-Id": "trace-1234abcd"})
    assert sane.headers["X-Request-Id"] == "trace-1234abcd"
    for hostile in ("x\r\nSet-Cookie: a=b", "<script>", "a" * 500, "short"):
        response = client.get("/login", environ_overrides={"HTTP_X_REQUEST_ID": hostile})
        echoed = response.headers["X-Request-Id"]
        assert echoed != hostile and echoed.isalnum()


@pytest.fixture
def failing_app(database_url):
    app = create_app(app_settings(database_url, PROPAGATE_EXCEPTIONS=False))

    @public
    def boom():
        raise RuntimeError("secret internals")

    app.add_url_rule("/boom", "boom", boom)
    return app


class Records(logging.Handler):
    """Keeps what the app logs (Alembic's fileConfig may have silenced propagation)."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


def test_a_500_is_logged_with_traceback_and_its_id_is_shown(failing_app, db):
    logger, records = failing_app.logger, Records()
    logger.disabled = False  # an in-process `flask db upgrade` disables existing loggers
    logger.addHandler(records)
    try:
        response = failing_app.test_client().get("/boom")
        as_json = failing_app.test_client().get("/boom", headers={"Accept": "application/json"})
    finally:
        logger.removeHandler(records)
    assert response.status_code == 500
    request_id = response.headers["X-Request-Id"]
    assert request_id in response.text
    assert "secret internals" not in response.text and "Traceback" not in response.text
    [record] = [r for r in records.records if request_id in r.getMessage()]
    formatted = logging.Formatter().format(record)
    assert "Traceback" in formatted and "secret internals" in formatted
    assert as_json.status_code == 500 and as_json.json["request_id"]


HOSTILE_NEXT = [
    "/\r\nSet-Cookie: evil=1",
    "/%0d%0aSet-Cookie:%20evil=1",
    "/%250d%250aSet-Cookie:evil=1",
    "//evil.example",
    "/\\evil.example",
    "/%2F%2Fevil.example",
    "/%5Cevil.example",
    "%2F%2Fevil.example",
    "/\t/evil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    "/" + "a" * 5000,
]


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_hostile_next_after_sign_in_lands_on_the_start_page(client, auth, db, target):
    user = make_user("DOCTOR")
    token = auth.token()
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"email": user.email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/patients"


def test_a_nul_character_in_a_form_is_a_clear_400(client, auth, db):
    token = auth.token()
    response = client.post(
        "/login", data={"email": "a\x00@example.test", "password": "p", "csrf_token": token}
    )
    assert response.status_code == 400
