"""webapp.database on both backends: what differs between PostgreSQL and SQLite, in one place."""

import threading
import time
from datetime import UTC, datetime
from decimal import Decimal

from flask import current_app
from sqlalchemy import func, select

from tests.support.auth import open_session_for
from tests.support.factories import make_patient, make_user
from tests.support.settings import app_settings
from webapp import create_app
from webapp import database as backend
from webapp.extensions import db as database
from webapp.models import Patient, PatientCost

COST_KEY = ("patient_id", "month")


def test_the_backend_and_its_notifications_come_from_the_database_uri(app, tmp_path):
    sqlite_app = create_app(app_settings(f"sqlite:///{tmp_path / 'x.db'}"))
    assert (backend.backend(app), backend.backend(sqlite_app)) == ("postgresql", "sqlite")
    assert backend.sends_change_notifications(app)
    assert not backend.sends_change_notifications(sqlite_app)


def _cost(patient_id: int, total: str, stamp: datetime) -> dict:
    return {
        "patient_id": patient_id,
        "month": "2024-01",
        "total_cost": Decimal(total),
        "record_count": 1,
        "updated_at": stamp,
    }


def test_upsert_inserts_then_rewrites_only_rows_that_changed(on_backend):
    patient = make_patient()
    stamps = [datetime(2024, 2, day, tzinfo=UTC) for day in (1, 2, 3)]
    statement = backend.upsert(
        PatientCost.__table__, COST_KEY, ("total_cost", "record_count"), also_set=("updated_at",)
    )
    for total, stamp in zip(("10.00", "10.00", "12.50"), stamps, strict=True):
        on_backend.session.execute(statement, [_cost(patient.id, total, stamp)])
        on_backend.session.commit()
        if total == "10.00":
            row = on_backend.session.scalars(select(PatientCost)).one()
            on_backend.session.refresh(row)
            # The second, identical write leaves the row (and its updated_at) alone.
            assert row.updated_at.replace(tzinfo=UTC) == stamps[0]
    row = on_backend.session.scalars(select(PatientCost)).one()
    on_backend.session.refresh(row)
    assert (row.total_cost, row.updated_at.replace(tzinfo=UTC)) == (Decimal("12.50"), stamps[2])


def test_bulk_insert_writes_reserved_ids_and_nulls(on_backend):
    table = Patient.__table__
    first = backend.reserve_ids(table, 3)
    stamp = datetime(2024, 1, 1, tzinfo=UTC)
    columns = ("id", "given_name", "family_name", "birth_date", "sex", "search_name", "match_key")
    columns += ("created_at", "updated_at")
    rows = [
        (
            first + n,
            f"Given{n}",
            "Family",
            None,
            "unknown",
            f"given{n} family",
            f"k{n}",
            stamp,
            stamp,
        )
        for n in range(3)
    ]
    backend.bulk_insert(table, columns, rows)
    on_backend.session.commit()
    stored = on_backend.session.execute(
        select(Patient.id, Patient.birth_date).order_by(Patient.id)
    ).all()
    assert stored == [(first + n, None) for n in range(3)]
    assert backend.reserve_ids(table, 1) == first + 3
    assert on_backend.session.scalar(select(func.count(Patient.id))) == 3


def test_single_run_lock_lets_one_caller_through_at_a_time(on_backend):

    app = current_app._get_current_object()
    order, holding = [], threading.Event()

    def first():
        with app.app_context(), backend.single_run_lock(42):
            order.append("first in")
            holding.set()
            time.sleep(0.3)
            order.append("first out")
            database.session.commit()

    def second():
        holding.wait(5)
        with app.app_context(), backend.single_run_lock(42):
            order.append("second in")
            database.session.commit()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert order == ["first in", "first out", "second in"]


def test_a_request_that_finds_every_pooled_connection_busy_gets_503_with_retry_after(settings, db):
    options = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 0.3}
    busy_app = create_app({**settings, "SQLALCHEMY_ENGINE_OPTIONS": options})
    doctor = make_user("DOCTOR")
    client = busy_app.test_client()
    open_session_for(client, doctor)
    with busy_app.app_context():
        engine = database.engine
    held = engine.connect()  # the worker's only connection, busy elsewhere
    try:
        answer = client.get("/patients")
    finally:
        held.close()
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "5"
    assert "busy" in answer.get_data(as_text=True)
    assert client.get("/patients").status_code == 200  # the connection is back: served again
