"""Cached costs: served from Redis, never stale after a load, and optional when Redis is down."""

import logging
import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text, update

from tests.support.auth import AuthActions
from tests.support.factories import make_patient, make_record
from tests.support.settings import app_settings
from webapp import create_app
from webapp.extensions import db as database
from webapp.models import PatientCost
from webapp.services.costs.cache import clear_patient_costs
from webapp.services.costs.recompute import recompute_costs

CLOSED_PORT_REDIS = "redis://127.0.0.1:1/0"


def chart_total(client, patient) -> Decimal:
    html = client.get(f"/patients/{patient.id}").get_data(as_text=True)
    return Decimal(re.search(r'id="chart-cost-total">([\d,.]+)<', html).group(1).replace(",", ""))


def costs_page_totals(client) -> dict[str, str]:
    html = client.get("/costs").get_data(as_text=True)
    rows = re.findall(
        r'<tr id="cost-(\d+-\d{4}-\d{2})">.*?<td class="num">([\d,.]+)</td>', html, re.S
    )
    return dict(rows)


def tamper(db, patient, total: str) -> None:
    """Change a cost row behind the cache's back, as nothing in the app ever does."""
    db.session.execute(
        update(PatientCost).where(PatientCost.patient_id == patient.id).values(total_cost=total)
    )
    db.session.commit()


@pytest.fixture
def patient(db, recompute):
    patient = make_patient()
    make_record(patient, date(2024, 3, 1), "100.00")
    recompute(patient)
    return patient


def test_chart_costs_come_from_the_cache_until_cleared(doctor, db, patient):
    assert chart_total(doctor, patient) == Decimal("100.00")
    tamper(db, patient, "555.00")
    assert chart_total(doctor, patient) == Decimal("100.00"), "second view must hit the cache"
    clear_patient_costs([patient.id])
    assert chart_total(doctor, patient) == Decimal("555.00")


def test_cost_table_comes_from_the_cache_until_cleared(doctor, db, patient):
    key = f"{patient.id}-2024-03"
    assert costs_page_totals(doctor) == {key: "100.00"}
    tamper(db, patient, "7.00")
    assert costs_page_totals(doctor) == {key: "100.00"}
    clear_patient_costs([patient.id])
    assert costs_page_totals(doctor) == {key: "7.00"}


def test_a_load_never_leaves_a_stale_cost(doctor, db, patient):
    assert chart_total(doctor, patient) == Decimal("100.00")
    assert costs_page_totals(doctor)
    make_record(patient, date(2024, 3, 20), "23.45")
    make_record(patient, date(2024, 5, 2), "1.00")
    recompute_costs([patient.id])
    # A doctor opens the pages while the load's transaction is still open: old rows, cached.
    assert chart_total(doctor, patient) == Decimal("100.00")
    assert costs_page_totals(doctor) == {f"{patient.id}-2024-03": "100.00"}
    db.session.commit()
    assert chart_total(doctor, patient) == Decimal("124.45")
    assert costs_page_totals(doctor) == {
        f"{patient.id}-2024-05": "1.00",
        f"{patient.id}-2024-03": "123.45",
    }


def test_a_rolled_back_load_keeps_serving_the_committed_costs(doctor, db, patient):
    assert chart_total(doctor, patient) == Decimal("100.00")
    db.session.execute(
        text("UPDATE patient_cost SET total_cost = 1 WHERE patient_id = :p"), {"p": patient.id}
    )
    clear_patient_costs([patient.id])
    db.session.rollback()
    assert chart_total(doctor, patient) == Decimal("100.00")


class ListHandler(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def redis_down_client(database_url, db):
    """A client of an app whose Redis is a closed port; failures are collected."""
    app = create_app(app_settings(database_url, CACHE_REDIS_URL=CLOSED_PORT_REDIS))
    handler = ListHandler()
    logger = logging.getLogger("webapp.cache")
    # Alembic's fileConfig, run by the suite's migration, disables loggers that already exist.
    was_disabled, logger.disabled = logger.disabled, False
    logger.addHandler(handler)
    client = app.test_client()
    AuthActions(client).login("DOCTOR")
    yield app, client, handler.records
    logger.removeHandler(handler)
    logger.disabled = was_disabled


def test_pages_work_from_the_database_when_redis_is_down(redis_down_client, db, patient):
    app, client, failures = redis_down_client
    for _ in range(3):
        assert chart_total(client, patient) == Decimal("100.00")
        assert costs_page_totals(client) == {f"{patient.id}-2024-03": "100.00"}
    make_record(patient, date(2024, 3, 9), "1.00")
    recompute_costs([patient.id])
    database.session.commit()
    with app.app_context():
        clear_patient_costs([patient.id])  # the loader's call must not fail either
    assert chart_total(client, patient) == Decimal("101.00")
    assert client.get("/patients?name=ana").status_code == 200
    messages = [r.getMessage() for r in failures]
    assert len(messages) == 1, messages
    assert "Cache unavailable" in messages[0]


def test_cached_rows_html_serves_the_page_and_its_htmx_swap_alike(doctor, db, patient):
    key = f"{patient.id}-2024-03"
    assert costs_page_totals(doctor) == {key: "100.00"}  # renders and caches the rows' HTML
    tamper(db, patient, "9.00")
    swap = doctor.get("/costs", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert f'<tr id="cost-{key}">' in swap and "100.00" in swap and "9.00" not in swap
    assert "<h1>" not in swap  # the block alone
    clear_patient_costs([patient.id])
    swap = doctor.get("/costs", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "9.00" in swap and "100.00" not in swap
