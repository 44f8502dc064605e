"""On SQLite (no NOTIFY) a load publishes its cost rows in-process to the open sockets."""

import pytest
from flask_migrate import upgrade

from tests.support.factories import make_patient, make_user
from tests.support.live_server import LiveServer
from tests.support.run_outputs import write_output
from tests.support.settings import app_settings
from tests.support.sockets import connect, receive_until
from webapp import MIGRATIONS_DIR, create_app
from webapp.extensions import db
from webapp.models import PipelineRun
from webapp.services.demo.seeding import seed_reference_data
from webapp.services.ingestion import runs as ingestion


@pytest.fixture(scope="module")
def sqlite_app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sqlite")
    app = create_app(
        app_settings(
            f"sqlite:///{folder / 'aikey.db'}",
            STORAGE_URI=str(folder / "storage"),
            CACHE_TYPE="SimpleCache",
            LIVE_RECHECK_SECONDS=0.2,
        )
    )
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
        seed_reference_data()
    return app


def load(run_id: str, rows) -> None:
    write_output(ingestion.output_uri_for(run_id), run_id, rows)
    run = PipelineRun(id=run_id, trigger="cli", status="loading", input_uris=[])
    run.output_uri = ingestion.output_uri_for(run_id)
    db.session.add(run)
    db.session.commit()
    ingestion.load_run(run)


def test_load_publishes_new_and_changed_rows_in_process(sqlite_app):
    server = LiveServer(sqlite_app).start()
    try:
        with sqlite_app.app_context():
            doctor, ana = make_user("DOCTOR"), make_patient()
            ws = connect(server, doctor)
            chart_ws = connect(server, doctor, query=f"?patient={ana.id}")
            assert sqlite_app.extensions["live"].listener is None  # no NOTIFY on SQLite
            load("run-1", [(ana.id, "2025-01-02", "10.00")])
            (new,) = receive_until(ws, lambda m: "cost-rows" in m)
            assert new.startswith('<tbody id="cost-rows" hx-swap-oob="afterbegin"><tr id="cost-')
            (chart,) = receive_until(chart_ws, lambda m: "chart-cost-summary" in m)
            assert f'id="chart-cost-{ana.id}-2025-01"' in chart
            assert chart.startswith('<div id="chart-cost-summary" hx-swap-oob="outerHTML">')
            assert 'id="chart-cost-total">10.00<' in chart and 'data-month="2025-01"' in chart
            load("run-2", [(ana.id, "2025-01-03", "5.00")])
            (changed,) = receive_until(
                ws, lambda m: m.startswith(f'<tr id="cost-{ana.id}-2025-01"')
            )
            assert 'hx-swap-oob="outerHTML"' in changed and "15.00" in changed
            ws.close()
            chart_ws.close()
    finally:
        server.stop()
