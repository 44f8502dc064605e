"""Probes: /health needs nothing, /ready needs the database; no path ends in z."""

import pytest

from tests.support.settings import app_settings
from webapp import create_app

DOWN_DATABASE = "postgresql+psycopg2://nobody@127.0.0.1:1/none"
DOWN_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture(scope="module")
def stranded_app(database_url):
    """An app whose database and cache are both unreachable."""
    return create_app(
        app_settings(
            database_url,
            SQLALCHEMY_DATABASE_URI=DOWN_DATABASE,
            REDIS_URL=DOWN_REDIS,
            CACHE_REDIS_URL=DOWN_REDIS,
        )
    )


def test_health_and_ready_answer_when_all_is_up(client):
    assert client.get("/health").json == {"status": "ok"}
    ready = client.get("/ready")
    assert ready.status_code == 200
    assert ready.json == {"status": "ok", "database": "ok", "cache": "ok"}


def test_liveness_needs_no_database_and_readiness_does(stranded_app):
    client = stranded_app.test_client()
    health = client.get("/health")
    assert (health.status_code, health.json) == (200, {"status": "ok"})
    ready = client.get("/ready")
    assert ready.status_code == 503
    assert ready.json["status"] == "unavailable"
    assert ready.json["database"].startswith("error")
    assert ready.json["cache"].startswith("error")


def test_ready_reports_a_cache_outage_but_stays_ready(database_url, db):
    app = create_app(app_settings(database_url, REDIS_URL=DOWN_REDIS, CACHE_REDIS_URL=DOWN_REDIS))
    ready = app.test_client().get("/ready")
    assert ready.status_code == 200
    assert ready.json["database"] == "ok" and ready.json["cache"].startswith("error")


def test_no_route_ends_in_z_which_cloud_run_reserves(app, client):
    assert client.get("/healthz").status_code == 404
    endings = [
        rule.rule for rule in app.url_map.iter_rules() if rule.rule.rstrip("/").endswith("z")
    ]
    assert endings == []
