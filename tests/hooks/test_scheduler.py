"""The Scheduler hook starts one run at a time, locally in a worker thread or on Dataflow."""

import threading
import time
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from tests.support.factories import make_patient
from tests.support.oidc import SCHEDULER_ACCOUNT, bearer
from tests.support.run_outputs import legacy_csv
from webapp.models import AuditEvent, AuditSeal, PatientCost, PipelineRun
from webapp.services.audit.events import record_event
from webapp.services.ingestion import launcher as run_launcher


def start(client, key):
    return client.post("/hooks/scheduler/ingest", headers=bearer(key.sign(email=SCHEDULER_ACCOUNT)))


def wait_for_status(db, run_id, statuses, timeout=90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.expire_all()
        run = db.session.get(PipelineRun, run_id)
        if run is not None and run.status in statuses:
            return run
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} never reached {statuses}")


def test_scheduler_starts_a_run_in_the_background(hook_client, signing_key, db, storage_root):
    ana = make_patient()
    incoming = storage_root / "incoming" / "hospital-a"
    incoming.mkdir(parents=True, exist_ok=True)
    (incoming / "jan.csv").write_text(legacy_csv([(ana.id, "2025-01-10", "12.00")]))
    started = time.monotonic()
    response = start(hook_client, signing_key)
    assert response.status_code == 202, response.get_data(as_text=True)
    assert time.monotonic() - started < 2, "the request must not wait for the pipeline"
    run_id = response.json["run_id"]
    run = wait_for_status(db, run_id, {"succeeded", "failed"})
    assert (run.trigger, run.status, run.error) == ("scheduler", "succeeded", None)
    assert run.input_uris == [f"{storage_root}/incoming"]
    cost = db.session.scalars(select(PatientCost)).one()
    assert (cost.patient_id, cost.month, str(cost.total_cost)) == (ana.id, "2025-01", "12.00")


def test_run_in_progress_gives_409_with_its_id(hook_client, signing_key, db):
    db.session.add(PipelineRun(id="busy", trigger="manual", status="running", input_uris=[]))
    db.session.commit()
    response = start(hook_client, signing_key)
    assert response.status_code == 409
    assert response.json["run_id"] == "busy"
    assert db.session.scalars(select(PipelineRun.id)).all() == ["busy"]


def test_the_scheduler_call_seals_the_audit_trail(
    hook_app, hook_client, signing_key, db, monkeypatch
):
    monkeypatch.setitem(hook_app.config, "AUDIT_SEAL_SECONDS", -1)  # only the hook may seal
    db.session.add(PipelineRun(id="busy", trigger="manual", status="running", input_uris=[]))
    db.session.commit()
    record_event("test.before_the_night")
    start(hook_client, signing_key)
    db.session.expire_all()
    events = db.session.scalars(select(AuditEvent.id)).all()
    sealed = db.session.scalars(select(AuditSeal.event_id)).all()
    assert len(events) == 2 and sorted(sealed) == sorted(events)


def test_concurrent_starts_create_one_run(hook_app, db, monkeypatch):
    monkeypatch.setattr(run_launcher, "dispatch", lambda run: None)
    barrier = threading.Barrier(6)
    results = []

    def go():
        with hook_app.app_context():
            barrier.wait()
            results.append(run_launcher.start_run("scheduler").started)

    threads = [threading.Thread(target=go) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == [False] * 5 + [True]
    db.session.expire_all()
    assert len(db.session.scalars(select(PipelineRun)).all()) == 1


def test_dataflow_runner_launches_the_template_and_records_the_job(dataflow_app, signing_key, db):
    response = start(dataflow_app.test_client(), signing_key)
    assert response.status_code == 202, response.get_data(as_text=True)
    run_id = response.json["run_id"]
    path, body = dataflow_app.stand_in.calls("POST")[-1]
    url = urlsplit(path)
    assert url.path == "/v1b3/projects/aikey-test/locations/europe-west1/templates:launch"
    assert parse_qs(url.query)["gcsPath"] == ["gs://aikey-test/templates/ingest"]
    assert body["parameters"] == {
        "input": "gs://aikey-test/prod/incoming",
        "output": f"gs://aikey-test/prod/output/{run_id}",
        "run_id": run_id,
    }
    assert body["jobName"].startswith("aikey-")
    db.session.expire_all()
    run = db.session.get(PipelineRun, run_id)
    assert (run.status, run.dataflow_job_id) == ("running", "2026-01-01_00_00_00-123")
