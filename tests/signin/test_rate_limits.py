"""Rate limits on /login, the second-factor step and the hooks: 429 with Retry-After.

Counted in the real Redis, and in memory when Redis is unreachable.
"""

import pytest
import redis

from tests.support import services
from tests.support.factories import make_user
from tests.support.limits import limited_app
from tests.support.second_factor import enrol

LOGIN = "/login"


def _post_login(client, email: str, address: str = "10.1.1.1", **kwargs):
    return client.post(
        LOGIN,
        data={"email": email, "password": "wrong password"},
        environ_base={"REMOTE_ADDR": address},
        **kwargs,
    )


@pytest.fixture(params=["redis", "redis down"])
def app_limited(request, settings):
    """Low limits, counted in Redis or, when it is unreachable, in memory."""
    overrides = {"WTF_CSRF_ENABLED": False}
    if request.param == "redis down":
        overrides["RATELIMIT_STORAGE_URI"] = "redis://127.0.0.1:1"
    return limited_app(settings, **overrides)


def test_too_many_sign_ins_from_one_address_get_429_with_retry_after(app_limited, db):
    client = app_limited.test_client()
    answers = [_post_login(client, f"user{n}@example.test").status_code for n in range(5)]
    assert answers == [200] * 5
    refused = _post_login(client, "another@example.test")
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert "Too many" in refused.get_data(as_text=True)
    assert refused.mimetype == "text/html"
    as_json = _post_login(client, "json@example.test", headers={"Accept": "application/json"})
    assert as_json.status_code == 429 and as_json.is_json
    assert as_json.get_json()["status"] == 429 and "Retry-After" in as_json.headers
    # Another address is not affected.
    assert _post_login(client, "user0@example.test", address="10.2.2.2").status_code == 200


def test_one_email_from_many_addresses_is_limited(app_limited, db):
    client = app_limited.test_client()
    answers = [
        _post_login(client, "target@example.test", address=f"10.3.0.{n}").status_code
        for n in range(4)
    ]
    assert answers == [200, 200, 200, 429]
    assert _post_login(client, "other@example.test", address="10.3.0.9").status_code == 200


def test_limits_are_counted_in_redis(settings, db):
    app = limited_app(settings, WTF_CSRF_ENABLED=False)
    client = app.test_client()
    _post_login(client, "counted@example.test")
    prefix = app.config["RATELIMIT_KEY_PREFIX"]
    keys = redis.Redis.from_url(services.redis_url()).keys(f"*{prefix}*")
    assert keys, "no rate-limit counter in Redis"


def test_the_hooks_are_limited_per_address(app_limited, db):
    client = app_limited.test_client()
    path = "/hooks/scheduler/ingest"
    answers = [
        client.post(path, environ_base={"REMOTE_ADDR": "10.4.4.4"}).status_code for _ in range(4)
    ]
    assert answers[:3] != [429] * 3 and 429 not in answers[:3]
    assert answers[3] == 429
    refused = client.post(path, environ_base={"REMOTE_ADDR": "10.4.4.4"})
    assert refused.is_json and "Retry-After" in refused.headers


def test_the_code_step_is_limited_per_account(app_limited, db):
    from tests.support.auth import AuthActions

    client = app_limited.test_client()
    user = make_user("DOCTOR")
    enrol(user)
    response = AuthActions(client).post(
        LOGIN, {"email": user.email, "password": "correct horse battery"}
    )
    assert "/login/code" in response.headers["Location"]
    codes = [
        client.post(
            "/login/code", data={"code": "000000"}, environ_base={"REMOTE_ADDR": f"10.5.0.{n}"}
        )
        for n in range(4)
    ]
    assert [c.status_code for c in codes[:3]] == [200, 200, 200]
    assert codes[3].status_code == 429
