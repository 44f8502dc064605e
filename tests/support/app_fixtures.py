"""The app fixtures of every test outside tests/pipeline, and the check that the servers are up.

tests/conftest.py loads this plugin unless only pipeline tests were asked for. Once collection
is done, a session that holds any other test stops with exit code 3 when PostgreSQL or Redis is
down: those tests fail loudly, never skip.
"""

import time

import pytest
from flask_migrate import upgrade
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from tests.support import services
from tests.support.auth import AuthActions
from tests.support.settings import app_settings
from tests.support.suite import is_pipeline_test
from webapp import MIGRATIONS_DIR, create_app
from webapp.extensions import cache
from webapp.extensions import db as database
from webapp.services.demo.seeding import seed_reference_data
from webapp.services.ingestion import worker as run_worker


def pytest_collection_finish(session):
    """Fail loudly, never skip, when the servers the collected tests need are down."""
    if all(is_pipeline_test(item.path) for item in session.items):
        return
    problems = [p for p in (services.check_postgres(), services.check_redis()) if p]
    if problems:
        pytest.exit("\n".join(problems) + "\nStart them (see README, 'Tests').", returncode=3)


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
            # The suite's superuser resets state: the audit tables' triggers refuse TRUNCATE
            # to everyone else, so they are switched off for this one transaction.
            database.session.execute(text("SET LOCAL session_replication_role = replica"))
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


@pytest.fixture(params=["postgresql", "sqlite"])
def on_backend(request, tmp_path):
    """An app context on the suite's PostgreSQL database or on a fresh SQLite file."""
    if request.param == "postgresql":
        yield request.getfixturevalue("db")
        return
    app = create_app(app_settings(f"sqlite:///{tmp_path / 'aikey.db'}"))
    with app.app_context():
        database.create_all()
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


@pytest.fixture
def auth(client):
    """Sign-in helper bound to the test client."""
    return AuthActions(client)
