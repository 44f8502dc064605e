"""`flask pubsub pull` feeds the push hook's handler; a gs:// run output loads from the emulator."""

import json
import socket
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.support.factories import make_patient
from tests.support.oidc import bearer, hook_settings
from tests.support.run_outputs import push_envelope, write_output
from tests.support.settings import app_settings
from webapp import create_app
from webapp.hooks.pull import handle_message
from webapp.models import AuditEvent, PatientCost, PipelineRun
from webapp.services import storage


@dataclass
class FakeMessage:
    """The fields of google.cloud.pubsub_v1.subscriber.message.Message the handler reads."""

    attributes: dict
    data: bytes
    message_id: str = "m-1"
    delivery_attempt: int | None = 1
    calls: list = field(default_factory=list)

    def ack(self):
        self.calls.append("ack")

    def nack(self):
        self.calls.append("nack")


def pulled(object_name: str, generation: str = "1") -> FakeMessage:
    resource = {"bucket": "aikey-test", "name": object_name, "generation": generation}
    attributes = push_envelope(object_name, generation=generation)["message"]["attributes"]
    return FakeMessage(attributes, json.dumps(resource).encode())


def test_pulled_success_loads_then_acks(hook_app, db, output_uri):
    ana = make_patient()
    write_output(output_uri("run-p"), "run-p", [(ana.id, "2025-05-01", "30.00")])
    message = pulled("output/run-p/_SUCCESS")
    assert handle_message(hook_app, message) == "loaded"
    assert message.calls == ["ack"]
    db.session.expire_all()
    assert db.session.get(PipelineRun, "run-p").status == "succeeded"
    again = pulled("output/run-p/_SUCCESS")
    assert handle_message(hook_app, again) == "duplicate" and again.calls == ["ack"]


def test_pulled_failure_is_nacked_and_nothing_kept(hook_app, db, output_uri):
    folder = Path(output_uri("run-torn"))
    folder.mkdir(parents=True)
    (folder / "_SUCCESS").write_text("{torn manifest")  # the load fails on it
    message = pulled("output/run-torn/_SUCCESS")
    assert handle_message(hook_app, message) == "failed"
    assert message.calls == ["nack"]
    assert db.session.scalars(select(PipelineRun)).all() == []


def test_pulled_success_whose_output_is_gone_is_acked(hook_app, db):
    message = pulled("output/run-missing/_SUCCESS")  # a retry would never find it either
    assert handle_message(hook_app, message) == "no_output"
    assert message.calls == ["ack"]
    assert db.session.scalars(select(PipelineRun)).all() == []


def test_pulled_malformed_is_acked_not_retried(hook_app, db):
    message = FakeMessage({"eventType": "OBJECT_FINALIZE"}, b"{}")
    assert handle_message(hook_app, message) == "malformed"
    assert message.calls == ["ack"]


def test_pull_command_is_registered(hook_app):
    result = hook_app.test_cli_runner().invoke(args=["pubsub", "pull", "--help"])
    assert result.exit_code == 0 and "SUBSCRIPTION" in result.output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def emulator(monkeypatch):
    """gcp-storage-emulator with bucket aikey-test; storage's client pointed at it."""
    from gcp_storage_emulator.server import create_server

    port = _free_port()
    server = create_server("127.0.0.1", port, in_memory=True, default_bucket="aikey-test")
    server.start()
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{port}")
    storage._client.cache_clear()
    yield
    storage._client.cache_clear()
    server.stop()


def test_push_loads_a_run_output_from_gs(emulator, database_url, cert_server, signing_key, db):
    app = create_app(
        app_settings(
            database_url, STORAGE_URI="gs://aikey-test/prod", **hook_settings(cert_server.url)
        )
    )
    ana = make_patient()
    write_output("gs://aikey-test/prod/output/run-gs", "run-gs", [(ana.id, "2025-06-01", "7.25")])
    assert storage.exists("gs://aikey-test/prod/output/run-gs/_SUCCESS")
    client = app.test_client()
    # Outside the STORAGE_URI prefix: ignored.
    outside = push_envelope("output/run-gs/_SUCCESS")
    ignored = client.post("/hooks/pubsub/storage", json=outside, headers=bearer(signing_key.sign()))
    assert ignored.status_code == 204
    body = push_envelope("prod/output/run-gs/_SUCCESS")
    response = client.post("/hooks/pubsub/storage", json=body, headers=bearer(signing_key.sign()))
    assert response.status_code == 204
    db.session.expire_all()
    run = db.session.get(PipelineRun, "run-gs")
    assert (run.status, run.output_uri) == ("succeeded", "gs://aikey-test/prod/output/run-gs")
    cost = db.session.scalars(select(PatientCost)).one()
    assert (cost.month, str(cost.total_cost)) == ("2025-06", "7.25")
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [e.details["outcome"] for e in events] == ["ignored", "loaded"]
