"""Fixtures shared by the whole suite: a real PostgreSQL database and Redis, app and clients."""

import atexit
import secrets
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from tests.support import factories, services
from tests.support.pages import csrf_token
from webapp import MIGRATIONS_DIR, create_app
from webapp.extensions import cache
from webapp.extensions import db as database
from webapp.services.demo.seeding import seed_reference_data
from webapp.services.ingestion import worker as run_worker

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def shared_data():
    """The real sample exports in ../shared/data; skipped with a reason where a clone lacks them."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"sample data folder {SHARED_DATA} is missing; these tests need it")
    return SHARED_DATA


def pytest_sessionstart(session):
    """Fail loudly, never skip, when the servers the suite needs are down."""
    problems = [p for p in (services.check_postgres(), services.check_redis()) if p]
    if problems:
        pytest.exit("\n".join(problems) + "\nStart them (see README, 'Tests').", returncode=3)


STORAGE_ROOT = tempfile.mkdtemp(prefix="aikey-test-storage-")
atexit.register(shutil.rmtree, STORAGE_ROOT, ignore_errors=True)


def app_settings(database_url: str, **overrides) -> dict:
    """Settings for an app under test, pointed at the given database and the real Redis."""
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-" + secrets.token_hex(8),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": services.redis_url(),
        "CACHE_TYPE": "RedisCache",
        "CACHE_REDIS_URL": services.redis_url(),
        "CACHE_KEY_PREFIX": f"aikey-test-{secrets.token_hex(4)}:",
        "SERVER_NAME": None,
        # Never the project's own var/storage: runs started by tests must find only test files.
        "STORAGE_URI": STORAGE_ROOT,
    }
    config.update(overrides)
    return config


@pytest.fixture(scope="session")
def database_url():
    """A PostgreSQL database of the suite's own, migrated to head, dropped at the end."""
    name = services.create_database()
    url = services.url_for_database(name)
    app = create_app(app_settings(url))
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
        database.engine.dispose()
    yield url
    services.drop_database(name)


@pytest.fixture(scope="session")
def settings(database_url):
    """One set of test settings shared by the app under test and the tests' own data access."""
    return app_settings(database_url)


@pytest.fixture(scope="session")
def app(settings):
    """The application under test."""
    return create_app(settings)


@pytest.fixture(scope="session")
def data_app(settings):
    """A second app on the same database for the tests' own queries.

    Requests then get an app context (and `g`) of their own, as in production, instead of
    sharing the test's: Flask reuses an active context of the same app.
    """
    return create_app(settings)


def empty_tables(tables: str, attempts: int = 5) -> None:
    """TRUNCATE every table, retrying when PostgreSQL breaks a deadlock against us.

    A request the live server is still finishing for the previous browser test can hold locks
    in the opposite order; PostgreSQL then aborts one side, and ours can simply go again.
    """
    for attempt in range(attempts):
        try:
            database.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            database.session.commit()
            return
        except OperationalError:
            database.session.rollback()
            if attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))


@pytest.fixture
def db(data_app):
    """An emptied database holding only reference data, inside an app context."""
    # A run a previous test started in the background must not write into this test's data.
    run_worker.wait_for_all()
    with data_app.app_context():
        tables = ", ".join(
            t.name for t in database.metadata.sorted_tables if t.name != "alembic_version"
        )
        empty_tables(tables)
        seed_reference_data()
        cache.clear()
        yield database
        database.session.remove()


@pytest.fixture
def client(app, db):
    """A test client on a clean database."""
    return app.test_client()


@pytest.fixture
def runner(data_app, db):
    """A CLI runner on a clean database (commands run in the tests' app context)."""
    return data_app.test_cli_runner()


class AuthActions:
    """Sign a test client in and out the way a browser does, CSRF token included."""

    def __init__(self, client):
        self._client = client

    def login(self, role_or_user="DOCTOR", password=factories.PASSWORD, follow=False):
        """Sign in as a new user of the role (or as the given user); returns the user."""
        user = role_or_user
        if isinstance(role_or_user, str):
            user = factories.make_user(role_or_user, password=password)
        self.post(
            "/login",
            {"email": user.email, "password": password},
            follow=follow,
            token_page="/login",
        )
        return user

    def logout(self):
        """Sign out through the POST form."""
        return self.post("/logout", {})

    def post(self, url, data, follow=False, token_page=None, **kwargs):
        """POST a form with the CSRF token a page of the app hands out."""
        page = self._client.get(token_page or url, follow_redirects=True)
        payload = {"csrf_token": csrf_token(page.get_data(as_text=True)), **data}
        return self._client.post(url, data=payload, follow_redirects=follow, **kwargs)

    def token(self, url="/login"):
        """A CSRF token valid for this client's session."""
        return csrf_token(self._client.get(url, follow_redirects=True).get_data(as_text=True))


@pytest.fixture
def auth(client):
    """Sign-in helper bound to the test client."""
    return AuthActions(client)
