"""The Pub/Sub push hook: malformed envelopes, ignored objects, loads once whatever the order."""

import base64
import json
import threading

import pytest
from sqlalchemy import func, select

from tests.support.factories import make_patient
from tests.support.oidc import bearer
from tests.support.run_outputs import push_envelope, run_real_pipeline, write_output
from webapp.models import AuditEvent, IngestReject, PatientCost, PipelineRun, StorageEvent


def post(client, key, body, **kwargs):
    return client.post("/hooks/pubsub/storage", headers=bearer(key.sign()), **kwargs, json=body)


def outcomes(db) -> list[str]:
    db.session.expire_all()
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "hook.pubsub"))
    return [e.details["outcome"] for e in events]


def costs(db) -> dict:
    db.session.expire_all()
    rows = db.session.scalars(select(PatientCost).order_by(PatientCost.patient_id)).all()
    return {(c.patient_id, c.month): (str(c.total_cost), c.record_count) for c in rows}


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def envelope_with(**changes):
    body = push_envelope("output/r1/_SUCCESS")
    for path, value in changes.items():
        target = body
        *parents, leaf = path.split(".")
        for parent in parents:
            target = target[parent]
        if value is None:
            del target[leaf]
        else:
            target[leaf] = value
    return body


MALFORMED = {
    "missing message": {"subscription": "projects/p/subscriptions/s"},
    "message not an object": {"message": "hello"},
    "missing attributes": envelope_with(**{"message.attributes": None}),
    "missing objectGeneration": envelope_with(**{"message.attributes.objectGeneration": None}),
    "bad base64": envelope_with(**{"message.data": "!!! not base64 !!!"}),
    "data not JSON": envelope_with(**{"message.data": b64(b"not json")}),
    "data not an object": envelope_with(**{"message.data": b64(b"[1, 2]")}),
}


@pytest.mark.parametrize("fault", MALFORMED)
def test_malformed_envelope_is_400_json(hook_client, signing_key, db, fault):
    response = post(hook_client, signing_key, MALFORMED[fault])
    assert response.status_code == 400 and response.is_json, fault
    assert outcomes(db) == ["malformed"]
    assert db.session.scalar(select(func.count(PipelineRun.id))) == 0


@pytest.mark.parametrize(
    "bucket, name",
    [
        ("another-bucket", "prod/output/r1/_SUCCESS"),  # the right path in someone else's bucket
        ("aikey-test", "output/r1/_SUCCESS"),  # outside $STORAGE_URI's prefix
        ("aikey-test", "prod/output/../output/r1/_SUCCESS"),
        ("aikey-test", "prod%2Foutput%2Fr1%2F_SUCCESS"),
    ],
)
def test_objects_outside_the_apps_bucket_and_prefix_are_ignored(
    dataflow_app, signing_key, db, bucket, name
):
    client = dataflow_app.test_client()  # STORAGE_URI=gs://aikey-test/prod
    response = post(client, signing_key, push_envelope(name, bucket=bucket))
    assert response.status_code == 204
    assert outcomes(db) == ["ignored"]
    assert db.session.scalar(select(func.count(PipelineRun.id))) == 0


def test_body_that_is_not_json_is_400(hook_client, signing_key, db):
    response = hook_client.post(
        "/hooks/pubsub/storage",
        data=b"{not json",
        headers={**bearer(signing_key.sign()), "Content-Type": "application/json"},
    )
    assert response.status_code == 400 and response.json["error"] == "malformed push envelope"


@pytest.mark.parametrize(
    "name, event",
    [
        ("incoming/hospital-a/a.csv", "OBJECT_FINALIZE"),
        ("output/r1/records.ndjson", "OBJECT_FINALIZE"),
        ("output/r1/_SUCCESS", "OBJECT_DELETE"),
        ("elsewhere/output/r1/_SUCCESS", "OBJECT_FINALIZE"),
        # Hostile paths: traversal, encoded slashes and dots, empty or absolute parts.
        ("output/../_SUCCESS", "OBJECT_FINALIZE"),
        ("output/../../etc/_SUCCESS", "OBJECT_FINALIZE"),
        ("output/%2e%2e/_SUCCESS", "OBJECT_FINALIZE"),
        ("output/r1%2F..%2F/_SUCCESS", "OBJECT_FINALIZE"),
        ("output//_SUCCESS", "OBJECT_FINALIZE"),
        ("/output/r1/_SUCCESS", "OBJECT_FINALIZE"),
    ],
)
def test_other_objects_are_acknowledged_and_ignored(hook_client, signing_key, db, name, event):
    response = post(hook_client, signing_key, push_envelope(name, event_type=event))
    assert response.status_code == 204
    assert outcomes(db) == ["ignored"]  # the audit row names the object and the outcome
    assert db.session.scalar(select(func.count(StorageEvent.id))) == 0
    assert db.session.scalar(select(func.count(PipelineRun.id))) == 0


def test_success_of_a_real_pipeline_run_loads_it(
    hook_client, signing_key, db, storage_root, output_uri, tmp_path
):
    ana, ben = make_patient(), make_patient(given="Ben", family="Ortiz")
    rows = [
        (ana.id, "2025-01-10", "50.00"),
        (ana.id, "2025-01-20", "25.50"),
        (ben.id, "2025-02-01", "10.00"),
        (ben.id, "2025-02-02", "not-money"),
    ]
    run_real_pipeline(tmp_path, output_uri("run-real"), "run-real", rows)
    response = post(hook_client, signing_key, push_envelope("output/run-real/_SUCCESS"))
    assert response.status_code == 204, response.get_data(as_text=True)
    run = db.session.get(PipelineRun, "run-real")
    assert (run.trigger, run.status, run.rows_loaded, run.rows_rejected) == (
        "pubsub",
        "succeeded",
        3,
        1,
    )
    assert run.reconciliation["status"] == "ok"
    assert costs(db) == {(ana.id, "2025-01"): ("75.50", 2), (ben.id, "2025-02"): ("10.00", 1)}
    reject = db.session.scalars(select(IngestReject)).one()
    assert reject.reason == "bad_cost" and reject.run_id == "run-real"


def test_same_event_twice_loads_once(hook_client, signing_key, db, output_uri):
    ana = make_patient()
    write_output(output_uri("run-a"), "run-a", [(ana.id, "2025-03-01", "40.00")])
    body = push_envelope("output/run-a/_SUCCESS", generation="42")
    assert post(hook_client, signing_key, body).status_code == 204
    finished = db.session.get(PipelineRun, "run-a").finished_at
    # Were the second delivery to load again, this changed output would show in the costs.
    write_output(output_uri("run-a"), "run-a", [(ana.id, "2025-03-01", "99.00")])
    assert post(hook_client, signing_key, {**body, "deliveryAttempt": 2}).status_code == 204
    assert outcomes(db) == ["loaded", "duplicate"]
    assert costs(db) == {(ana.id, "2025-03"): ("40.00", 1)}
    db.session.expire_all()
    assert db.session.get(PipelineRun, "run-a").finished_at == finished
    assert db.session.scalar(select(func.count(StorageEvent.id))) == 1


def test_concurrent_duplicate_deliveries_load_once(hook_app, signing_key, db, output_uri):
    ana = make_patient()
    write_output(output_uri("run-c"), "run-c", [(ana.id, "2025-03-01", "40.00")])
    body = push_envelope("output/run-c/_SUCCESS", generation="7")
    barrier = threading.Barrier(4)
    statuses = []

    def deliver():
        client = hook_app.test_client()
        headers = bearer(signing_key.sign())
        barrier.wait()
        statuses.append(
            client.post("/hooks/pubsub/storage", json=body, headers=headers).status_code
        )

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [204] * 4
    assert sorted(outcomes(db)) == ["duplicate"] * 3 + ["loaded"]


def test_out_of_order_success_of_b_before_a_loads_both(hook_client, signing_key, db, output_uri):
    ana = make_patient()
    write_output(output_uri("run-a"), "run-a", [(ana.id, "2025-01-05", "10.00")])
    write_output(output_uri("run-b"), "run-b", [(ana.id, "2025-02-05", "20.00")])
    assert post(hook_client, signing_key, push_envelope("output/run-b/_SUCCESS")).status_code == 204
    assert post(hook_client, signing_key, push_envelope("output/run-a/_SUCCESS")).status_code == 204
    assert outcomes(db) == ["loaded", "loaded"]
    assert costs(db) == {(ana.id, "2025-01"): ("10.00", 1), (ana.id, "2025-02"): ("20.00", 1)}
    statuses = db.session.scalars(select(PipelineRun.status)).all()
    assert statuses == ["succeeded", "succeeded"]


def test_success_for_a_known_run_finishes_that_run(hook_client, signing_key, db, output_uri):
    ana = make_patient()
    db.session.add(
        PipelineRun(
            id="run-df",
            trigger="scheduler",
            status="running",
            input_uris=["x"],
            output_uri=output_uri("run-df"),
            dataflow_job_id="job-1",
        )
    )
    db.session.commit()
    write_output(output_uri("run-df"), "run-df", [(ana.id, "2025-04-01", "5.00")])
    assert (
        post(hook_client, signing_key, push_envelope("output/run-df/_SUCCESS")).status_code == 204
    )
    db.session.expire_all()
    run = db.session.get(PipelineRun, "run-df")
    assert (run.trigger, run.status, run.rows_loaded) == ("scheduler", "succeeded", 1)


def test_database_outage_is_503_so_pubsub_retries(database_url, cert_server, signing_key):
    from tests.support.oidc import hook_settings
    from tests.support.settings import app_settings
    from webapp import create_app

    # A real, unreachable server: nothing listens on port 9 of the loopback.
    down = "postgresql+psycopg2://postgres@127.0.0.1:9/aikey?connect_timeout=2"
    app = create_app(app_settings(down, **hook_settings(cert_server.url)))
    body = push_envelope("output/run-x/_SUCCESS")
    response = post(app.test_client(), signing_key, body)
    assert response.status_code == 503 and response.json["error"] == "database unavailable"


def test_envelope_parsing_matches_pubsub_fields():
    from webapp.hooks.messages import parse_envelope

    note, delivery = parse_envelope(push_envelope("output/r9/_SUCCESS", generation="55"))
    assert (note.event_type, note.bucket, note.object_name, note.generation) == (
        "OBJECT_FINALIZE",
        "aikey-test",
        "output/r9/_SUCCESS",
        "55",
    )
    assert delivery == {
        "message_id": "1234567890",
        "subscription": "projects/aikey-test/subscriptions/storage-push",
        "delivery_attempt": 1,
    }
    assert json.loads(base64.b64decode(push_envelope("x")["message"]["data"]))["name"] == "x"


def test_success_whose_output_is_gone_is_acknowledged_and_recorded(hook_client, signing_key, db):
    # A rerun cleared output/run-gone/_SUCCESS before this notification arrived: retrying
    # would never find it, so the hook acknowledges (no retry storm) and says why.
    body = push_envelope("output/run-gone/_SUCCESS")
    response = post(hook_client, signing_key, body)
    assert response.status_code == 204, response.get_data(as_text=True)
    assert outcomes(db) == ["no_output"]
    assert db.session.scalars(select(StorageEvent.outcome)).all() == ["no_output"]
    assert db.session.scalar(select(func.count(PipelineRun.id))) == 0  # no phantom run
    assert post(hook_client, signing_key, body).status_code == 204
    assert outcomes(db) == ["no_output", "duplicate"]
