"""The access log of gunicorn, run as the Dockerfile runs it, never carries a patient's details."""

import os
import secrets
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.support import services
from tests.support.factories import PASSWORD, make_patient, make_user
from tests.support.pages import csrf_token
from tests.support.settings import STORAGE_ROOT

ROOT = Path(__file__).resolve().parent.parent
SECRETS = ("Zebulon", "1971-02-03", "MRN-ZZ9")


def dockerfile_command(port: int) -> list[str]:
    """The Dockerfile's gunicorn command, bound to a loopback port, with the access log on.

    The Dockerfile writes no access log (Cloud Run logs requests); an operator who turns it on
    with --access-logfile still gets gunicorn.conf.py's format, which is what this checks.
    """
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    command = next(line for line in text.splitlines() if line.startswith("CMD exec gunicorn"))
    args = shlex.split(command.removeprefix("CMD exec "))
    bind = ["--bind", f"127.0.0.1:{port}"]  # overrides gunicorn.conf.py's $PORT binding
    return [sys.executable, "-m", *args[:-1], *bind, "--access-logfile", "-", args[-1]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(url: str, process, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "gunicorn exited"
        try:
            requests.get(url + "/login", timeout=5)
            return
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.2)
    raise AssertionError("gunicorn did not start")


def test_the_dockerfile_and_make_serve_load_the_log_format():
    assert "--config gunicorn.conf.py" in (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    assert "gunicorn.conf.py ./" in (ROOT / "Dockerfile").read_text()
    assert "--config gunicorn.conf.py" in (ROOT / "Makefile").read_text()


def test_access_log_has_no_query_string_or_referrer(database_url, db):
    doctor = make_user("DOCTOR")
    patient = make_patient("Zebulon", "Quarry", source=("hospital-a", "MRN-ZZ9"))
    port = free_port()
    env = {
        **os.environ,
        "AIKEY_ENV": "development",
        "DATABASE_URL": database_url,
        "REDIS_URL": services.redis_url(),
        "CACHE_KEY_PREFIX": f"aikey-test-{secrets.token_hex(4)}:",
        "SECRET_KEY": secrets.token_hex(16),
        "STORAGE_URI": STORAGE_ROOT,
    }
    process = subprocess.Popen(
        dockerfile_command(port),
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process)
        http = requests.Session()
        token = csrf_token(http.get(f"{url}/login").text)
        login = {"email": doctor.email, "password": PASSWORD, "csrf_token": token}
        assert http.post(f"{url}/login", data=login).status_code == 200
        referrer = {"Referer": f"{url}/patients?name=Zebulon&dob=1971-02-03"}
        # An old bookmark with the query in the URL, the POSTed search, a chart with a filter.
        old = http.get(f"{url}/patients?name=Zebulon&dob=1971-02-03&identifier=MRN-ZZ9")
        assert old.status_code == 200
        token = csrf_token(old.text)
        found = http.post(
            f"{url}/patients",
            data={"name": "Zebulon", "identifier": "MRN-ZZ9"},
            headers={"X-CSRFToken": token, **referrer},
        )
        assert found.status_code == 200 and f"/patients/{patient.id}" in found.text
        assert "Zebulon" in found.text
        chart = http.get(f"{url}/patients/{patient.id}?kind=encounter", headers=referrer)
        assert chart.status_code == 200
    finally:
        process.terminate()
        log, _ = process.communicate(timeout=30)
    access_lines = [line for line in log.splitlines() if '"GET /' in line or '"POST /' in line]
    assert any('"POST /patients HTTP/1.1" 200' in line for line in access_lines), log
    assert any(f'"GET /patients/{patient.id} HTTP/1.1" 200' in line for line in access_lines)
    for secret in (*SECRETS, "kind=encounter", "?"):
        assert not any(secret in line for line in access_lines), (secret, log)
    assert not any(secret in log for secret in SECRETS), log
