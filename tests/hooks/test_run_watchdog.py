"""No run blocks ingestion: heartbeats, stale runs, Dataflow jobs followed, cancel, CLI lock."""

import time
from datetime import timedelta

import pytest
from flask import current_app
from sqlalchemy import select

from tests.support.auth import AuthActions
from tests.support.factories import make_patient
from tests.support.oidc import SCHEDULER_ACCOUNT, bearer
from tests.support.run_outputs import push_envelope, write_output
from webapp.common.clock import utcnow
from webapp.models import AuditEvent, PatientCost, PipelineRun
from webapp.services.ingestion import launcher as run_launcher
from webapp.services.ingestion.heartbeat import beat, heartbeats
from webapp.services.ingestion.runs import RunStopped, execute_run, finish

STALE = "No heartbeat for 10 minutes"


def add_run(db, run_id, status="running", minutes_ago=0, heartbeat_minutes_ago=None, **fields):
    now = utcnow()
    heartbeat = (
        None if heartbeat_minutes_ago is None else now - timedelta(minutes=heartbeat_minutes_ago)
    )
    run = PipelineRun(
        id=run_id,
        trigger=fields.pop("trigger", "scheduler"),
        status=status,
        input_uris=[],
        started_at=now - timedelta(minutes=minutes_ago),
        heartbeat_at=heartbeat,
        **fields,
    )
    db.session.add(run)
    db.session.commit()
    return run


def reloaded(db, run_id):
    db.session.expire_all()
    return db.session.get(PipelineRun, run_id)


def start(client, key):
    return client.post("/hooks/scheduler/ingest", headers=bearer(key.sign(email=SCHEDULER_ACCOUNT)))


def test_a_silent_local_run_is_failed_and_the_next_run_starts(
    hook_client, signing_key, db, monkeypatch
):
    monkeypatch.setattr(run_launcher, "dispatch", lambda run: None)
    add_run(db, "dead-worker", minutes_ago=40, heartbeat_minutes_ago=11)
    response = start(hook_client, signing_key)
    assert response.status_code == 202, response.get_data(as_text=True)
    dead = reloaded(db, "dead-worker")
    assert dead.status == "failed" and dead.finished_at is not None
    assert STALE in dead.error and "the process running it stopped" in dead.error


def test_a_run_with_a_recent_heartbeat_still_holds_the_lock(hook_client, signing_key, db):
    add_run(db, "slow-but-alive", minutes_ago=90, heartbeat_minutes_ago=1)
    response = start(hook_client, signing_key)
    assert (response.status_code, response.json["run_id"]) == (409, "slow-but-alive")
    assert reloaded(db, "slow-but-alive").status == "running"


def test_a_working_run_writes_heartbeats_until_it_ends(db, monkeypatch):
    monkeypatch.setitem(current_app.config, "RUN_HEARTBEAT_SECONDS", 0.05)
    add_run(db, "beating", minutes_ago=30)
    seen = set()
    with heartbeats("beating"):
        for _ in range(20):
            time.sleep(0.03)
            seen.add(reloaded(db, "beating").heartbeat_at)
    assert len(seen - {None}) >= 3, "the heartbeat must move while the run works"
    assert finish("beating", "cancelled", "test") is True
    assert beat("beating") is False, "an ended run is never revived by a late heartbeat"


def test_a_cancelled_run_is_not_resumed_by_its_worker(db):
    add_run(db, "stopped-early", status="queued")
    assert finish("stopped-early", "cancelled", "Cancelled by someone.") is True
    with pytest.raises(RunStopped):
        execute_run("stopped-early")
    run = reloaded(db, "stopped-early")
    assert (run.status, run.error) == ("cancelled", "Cancelled by someone.")


def test_flask_ingest_takes_the_lock_and_names_the_holder(runner, db):
    add_run(db, "holder-run", minutes_ago=2, heartbeat_minutes_ago=0)
    result = runner.invoke(args=["ingest"])
    assert result.exit_code == 1
    assert "holder-run" in result.output and "single-run lock" in result.output
    assert db.session.scalars(select(PipelineRun.id)).all() == ["holder-run"]


def test_flask_runs_check_ends_stuck_runs(runner, db):
    add_run(db, "stuck-run", status="loading", minutes_ago=60, heartbeat_minutes_ago=15)
    result = runner.invoke(args=["runs", "check"])
    assert result.exit_code == 0, result.output
    assert "Run stuck-run failed: No heartbeat for 10 minutes" in result.output
    assert "in progress: none" in result.output
    assert reloaded(db, "stuck-run").status == "failed"


# --- Dataflow runs, against a local stand-in of the Dataflow REST API ---


@pytest.fixture
def stand_in(dataflow_app):
    """The Dataflow API stand-in of the Dataflow app."""
    return dataflow_app.stand_in


@pytest.fixture
def dataflow_client(dataflow_app, db, stand_in):
    stand_in.requests.clear()
    stand_in.jobs.clear()
    return dataflow_app.test_client()


def ago(minutes: int) -> str:
    return (utcnow() - timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_failed_dataflow_job_fails_its_run_and_frees_the_hook(
    dataflow_client, stand_in, signing_key, db
):
    add_run(db, "df-failed", dataflow_job_id="job-failed", minutes_ago=3, heartbeat_minutes_ago=3)
    stand_in.set_job("job-failed", "JOB_STATE_FAILED", ago(1))
    response = start(dataflow_client, signing_key)
    assert response.status_code == 202, response.get_data(as_text=True)
    paths = [path for path, _ in stand_in.calls("GET")]
    assert paths[0].startswith("/v1b3/projects/aikey-test/locations/europe-west1/jobs/job-failed")
    run = reloaded(db, "df-failed")
    assert run.status == "failed"
    assert run.error == "Dataflow job job-failed ended in JOB_STATE_FAILED."


def test_a_running_dataflow_job_keeps_its_run_alive(dataflow_client, stand_in, signing_key, db):
    add_run(db, "df-running", dataflow_job_id="job-on", minutes_ago=45, heartbeat_minutes_ago=30)
    stand_in.set_job("job-on", "JOB_STATE_RUNNING", ago(44))
    response = start(dataflow_client, signing_key)
    assert (response.status_code, response.json["run_id"]) == (409, "df-running")
    run = reloaded(db, "df-running")
    assert run.status == "running"
    assert utcnow() - run.heartbeat_at < timedelta(minutes=1)


def test_polling_runs_pages_ask_dataflow_once_per_interval(dataflow_client, stand_in, db):
    # Every viewer's runs page polls every 2 s; each poll must not become a Dataflow API call.
    add_run(db, "df-polled", dataflow_job_id="job-polled", minutes_ago=5, heartbeat_minutes_ago=5)
    stand_in.set_job("job-polled", "JOB_STATE_RUNNING", ago(4))
    AuthActions(dataflow_client).login("AIPHAS")
    for _ in range(3):
        assert dataflow_client.get("/admin/runs").status_code == 200
        assert dataflow_client.get("/admin/runs/df-polled").status_code == 200
    job_reads = [path for path, _ in stand_in.calls("GET") if "/jobs/job-polled" in path]
    assert len(job_reads) == 1
    assert reloaded(db, "df-polled").status == "running"


def test_a_done_job_whose_output_never_loaded_fails_after_the_limit(
    dataflow_app, dataflow_client, stand_in, db
):
    add_run(db, "df-done", dataflow_job_id="job-done", minutes_ago=60, heartbeat_minutes_ago=20)
    stand_in.set_job("job-done", "JOB_STATE_DONE", ago(15))
    AuthActions(dataflow_client).login("AIPHAS")
    html = dataflow_client.get("/admin/runs").get_data(as_text=True)
    assert "df-done" in html
    run = reloaded(db, "df-done")
    assert run.status == "failed"
    assert "finished at" in run.error and "no _SUCCESS notification within 10 minutes" in run.error


def test_aiphas_cancels_a_dataflow_run_from_its_page(dataflow_client, stand_in, db):
    add_run(db, "df-cancel", dataflow_job_id="job-cancel", minutes_ago=5, heartbeat_minutes_ago=0)
    stand_in.set_job("job-cancel", "JOB_STATE_RUNNING", ago(5))
    auth = AuthActions(dataflow_client)
    user = auth.login("AIPHAS")
    page = dataflow_client.get("/admin/runs/df-cancel").get_data(as_text=True)
    assert "Cancel this run" in page
    refused = dataflow_client.post("/admin/runs/df-cancel/cancel")  # no CSRF token
    assert refused.status_code == 400 and reloaded(db, "df-cancel").status == "running"
    response = auth.post("/admin/runs/df-cancel/cancel", {}, token_page="/admin/runs/df-cancel")
    assert response.status_code == 303
    path, body = stand_in.calls("PUT")[-1]
    assert path.startswith("/v1b3/projects/aikey-test/locations/europe-west1/jobs/job-cancel")
    assert body["requestedState"] == "JOB_STATE_CANCELLED"
    run = reloaded(db, "df-cancel")
    assert (run.status, run.error) == ("cancelled", f"Cancelled by {user.email}.")
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "run.cancel")).one()
    assert event.actor_user_id == user.id
    assert event.details == {"run_id": "df-cancel", "cancelled": True}
    again = auth.post("/admin/runs/df-cancel/cancel", {}, token_page="/admin/runs/df-cancel")
    assert "already ended (cancelled)" in dataflow_client.get(again.location).get_data(as_text=True)


def test_a_doctor_cannot_cancel_a_run(dataflow_client, db):
    add_run(db, "df-guarded", dataflow_job_id="job-x", minutes_ago=1, heartbeat_minutes_ago=0)
    auth = AuthActions(dataflow_client)
    auth.login("DOCTOR")
    response = auth.post("/admin/runs/df-guarded/cancel", {}, token_page="/patients")
    assert response.status_code == 403
    assert reloaded(db, "df-guarded").status == "running"


@pytest.mark.parametrize(("status", "loaded"), [("cancelled", False), ("failed", True)])
def test_a_late_success_loads_a_failed_run_but_never_a_cancelled_one(
    hook_client, signing_key, db, output_uri, status, loaded
):
    ana = make_patient()
    add_run(db, "late-run", status=status, output_uri=output_uri("late-run"), dataflow_job_id="j")
    write_output(output_uri("late-run"), "late-run", [(ana.id, "2025-04-01", "5.00")])
    response = hook_client.post(
        "/hooks/pubsub/storage",
        headers=bearer(signing_key.sign()),
        json=push_envelope("output/late-run/_SUCCESS"),
    )
    assert response.status_code == 204
    costs = db.session.scalars(select(PatientCost)).all()
    assert bool(costs) is loaded
    assert reloaded(db, "late-run").status == ("succeeded" if loaded else "cancelled")


def test_cancelling_an_unknown_run_is_404_and_the_cli_says_so(dataflow_client, runner, db):
    auth = AuthActions(dataflow_client)
    auth.login("AIPHAS")
    response = auth.post("/admin/runs/no-such-run/cancel", {}, token_page="/admin/runs")
    assert response.status_code == 404
    result = runner.invoke(args=["runs", "cancel", "no-such-run"])
    assert result.exit_code == 1 and "There is no run no-such-run." in result.output
