"""Migrations upgrade and downgrade cleanly on an empty PostgreSQL database."""

import json
import select as io_select

import psycopg2
import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from tests.support import services
from tests.support.settings import app_settings
from webapp import MIGRATIONS_DIR, create_app
from webapp.extensions import db

EXPECTED_TABLES = {
    "hospital",
    "organization",
    "role",
    "permission",
    "role_permission",
    "app_user",
    "patient",
    "patient_identifier",
    "medical_record",
    "patient_cost",
    "pipeline_run",
    "audit_event",
}


@pytest.fixture
def empty_database():
    name = services.create_database("aikey_migrate")
    yield services.url_for_database(name)
    services.drop_database(name)


def test_upgrade_downgrade_upgrade(empty_database):
    app = create_app(app_settings(empty_database))
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
        assert set(inspect(db.engine).get_table_names()) >= EXPECTED_TABLES
        triggers = {row[0] for row in db.session.execute(text("SELECT tgname FROM pg_trigger"))}
        assert {"patient_cost_notify", "audit_event_append_only"} <= triggers
        db.session.remove()
        downgrade(directory=str(MIGRATIONS_DIR), revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade(directory=str(MIGRATIONS_DIR))
        assert set(inspect(db.engine).get_table_names()) >= EXPECTED_TABLES
        db.session.remove()
        db.engine.dispose()


def test_patient_cost_changes_are_notified(database_url, db):
    from tests.support.factories import make_patient

    patient = make_patient()
    listener = psycopg2.connect(database_url.replace("postgresql+psycopg2", "postgresql"))
    listener.autocommit = True
    listener.cursor().execute("LISTEN patient_cost")
    db.session.execute(
        text(
            "INSERT INTO patient_cost (patient_id, month, total_cost, record_count, updated_at)"
            " VALUES (:p, '2024-03', 10, 1, now())"
        ),
        {"p": patient.id},
    )
    db.session.commit()
    assert io_select.select([listener], [], [], 5) != ([], [], [])
    listener.poll()
    payload = json.loads(listener.notifies.pop(0).payload)
    assert payload["patient_id"] == patient.id and payload["month"] == "2024-03"
    assert "id" in payload
    listener.close()


def test_audit_rows_cannot_be_changed_or_deleted(db):
    from webapp.services.audit.events import record_event

    event = record_event("test.event")
    for statement in ("UPDATE audit_event SET action = 'x'", "DELETE FROM audit_event"):
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(statement))
        db.session.rollback()
    assert db.session.get(type(event), event.id).action == "test.event"
