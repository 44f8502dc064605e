"""An app configured as in production (JSON logs), on the suite's database."""

import pytest
from flask import current_app

from tests.support.settings import app_settings
from webapp import create_app
from webapp.auth.decorators import public
from webapp.web import logs

PROJECT = "aikey-test"


@pytest.fixture(scope="module")
def production_app(database_url):
    """AIKEY_PRODUCTION on, 500 pages instead of propagated errors, and one route that logs."""
    app = create_app(
        app_settings(
            database_url, AIKEY_PRODUCTION=True, GCP_PROJECT=PROJECT, PROPAGATE_EXCEPTIONS=False
        )
    )

    @app.route("/test-only/log-and-fail")
    @public
    def log_and_fail():
        current_app.logger.warning("about to fail")
        raise RuntimeError("boom")

    yield app
    logs.configure(production=False)  # the rest of the suite logs as in development


@pytest.fixture
def production_client(production_app, db):
    """A client of the production app on a clean database."""
    # Logging is process-wide and the last app made sets it up: make it this one's again.
    logs.init_app(production_app)
    return production_app.test_client()
