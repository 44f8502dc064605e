"""Every token fault is refused with 401 JSON and an audit row; a good token gets through."""

import base64
import json
import time

import pytest
from sqlalchemy import select

from tests.support.oidc import AUDIENCE, SigningKey, bearer
from tests.support.run_outputs import push_envelope
from webapp.models import AuditEvent

IGNORED = push_envelope("incoming/hospital-a/today.csv")
NOW = int(time.time())


def unsigned(key: SigningKey) -> dict:
    """The same claims as a good token, but `alg: none` and no signature (RFC 7519 s. 6)."""
    _, payload, _ = key.sign().split(".")
    none = base64.urlsafe_b64encode(
        json.dumps({"alg": "none", "typ": "JWT", "kid": key.kid}).encode()
    )
    return bearer(f"{none.decode().rstrip('=')}.{payload}.")


def audit_actions(db) -> list[tuple[str, dict]]:
    db.session.expire_all()
    return [(e.action, e.details) for e in db.session.scalars(select(AuditEvent))]


FAULTS = {
    "missing": lambda key: {},
    "not bearer": lambda key: {"Authorization": f"Basic {key.sign()}"},
    "malformed": lambda key: bearer("not.a.jwt"),
    "forged signature": lambda key: bearer(SigningKey(key.kid).sign()),
    "expired": lambda key: bearer(key.sign(iat=NOW - 7200, exp=NOW - 3600)),
    "wrong audience": lambda key: bearer(key.sign(aud="https://elsewhere.test/hooks")),
    "wrong email": lambda key: bearer(key.sign(email="intruder@evil.iam.gserviceaccount.com")),
    "email not verified": lambda key: bearer(key.sign(email_verified=False)),
    "email_verified missing": lambda key: bearer(key.sign(email_verified=None)),
    "wrong issuer": lambda key: bearer(key.sign(iss="https://issuer.evil.test")),
    "unknown key id": lambda key: bearer(SigningKey("other-kid").sign()),
    "alg none": unsigned,
}


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("path", ["/hooks/pubsub/storage", "/hooks/scheduler/ingest"])
def test_token_fault_is_401_json_and_audited(hook_client, signing_key, db, fault, path):
    response = hook_client.post(path, json=IGNORED, headers=FAULTS[fault](signing_key))
    assert response.status_code == 401, fault
    assert response.is_json and response.json["error"] == "unauthorized"
    refused = [d for action, d in audit_actions(db) if action == "hook.refused"]
    assert len(refused) == 1 and refused[0]["hook"] in path.replace("/", ".")


def test_good_token_is_accepted_and_audited(hook_client, signing_key, db):
    response = hook_client.post(
        "/hooks/pubsub/storage", json=IGNORED, headers=bearer(signing_key.sign())
    )
    assert response.status_code == 204
    actions = audit_actions(db)
    assert [a for a, _ in actions] == ["hook.pubsub"]
    assert actions[0][1]["outcome"] == "ignored"
    event = db.session.scalars(select(AuditEvent)).one()
    assert event.actor_email == "pubsub-push@aikey-test.iam.gserviceaccount.com"


def test_certificates_are_fetched_once_not_per_call(hook_client, signing_key, cert_server, db):
    before = cert_server.fetches
    for _ in range(3):
        headers = bearer(signing_key.sign())
        response = hook_client.post("/hooks/pubsub/storage", json=IGNORED, headers=headers)
        assert response.status_code == 204
    assert cert_server.fetches - before <= 1


def test_audience_must_be_configured(hook_app, signing_key, db):
    hook_app.config["HOOK_AUDIENCE"] = None
    try:
        response = hook_app.test_client().post(
            "/hooks/pubsub/storage", json=IGNORED, headers=bearer(signing_key.sign())
        )
    finally:
        hook_app.config["HOOK_AUDIENCE"] = AUDIENCE
    assert response.status_code == 401
