"""Production logs are JSON lines Cloud Logging reads; nothing in them names a patient."""

import json
import logging
import re
from pathlib import Path

from tests.support.auth import AuthActions
from tests.support.factories import make_patient
from webapp.web import logs

ROOT = Path(__file__).resolve().parents[2]
TRACE = "105445aa7843bc8bf206b12000100000"


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_a_request_logs_json_with_cloud_logging_fields(production_app, production_client, capsys):
    user = AuthActions(production_client).login("DOCTOR")
    capsys.readouterr()
    response = production_client.get(
        "/test-only/log-and-fail",
        headers={"X-Cloud-Trace-Context": f"{TRACE}/1;o=1", "X-Request-Id": "req-0123456789"},
    )
    assert response.status_code == 500
    assert response.headers["X-Request-Id"] == "req-0123456789"
    lines = json_lines(capsys.readouterr().out)
    warning = next(line for line in lines if line["message"] == "about to fail")
    assert warning["severity"] == "WARNING"
    assert (
        warning["logging.googleapis.com/trace"]
        == f"projects/{production_app.config['GCP_PROJECT']}/traces/{TRACE}"
    )
    assert warning["logging.googleapis.com/spanId"] == "1"
    assert warning["request_id"] == "req-0123456789"
    assert warning["user_id"] == user.id
    error = next(line for line in lines if line["severity"] == "ERROR")
    assert "RuntimeError: boom" in error["exc_info"] and "Traceback" in error["exc_info"]
    assert error["request_id"] == "req-0123456789"


def test_a_request_without_headers_gets_a_fresh_request_id(production_client):
    first = production_client.get("/health").headers["X-Request-Id"]
    second = production_client.get("/health").headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", first) and first != second
    forged = production_client.get("/health", headers={"X-Request-Id": "<script>x</script>"})
    assert re.fullmatch(r"[0-9a-f]{32}", forged.headers["X-Request-Id"])


def test_no_patient_name_in_any_log_line_of_a_search(production_client, capsys, caplog):
    patient = make_patient("Wilhelmina", "Quartermaine")
    AuthActions(production_client).login("DOCTOR")
    caplog.set_level(logging.DEBUG)
    capsys.readouterr()
    for query in ("Wilhelmina", "Quartermaine", "wilhelmina quartermaine"):
        page = production_client.get(f"/patients?q={query}")
        assert f"patient-{patient.id}" in page.get_data(as_text=True)
    # The request line a server writes keeps its path but loses the query string.
    logging.getLogger("werkzeug").info('"%s" %s %s', "GET /patients?q=Wilhelmina HTTP/1.1", 200, 5)
    captured = capsys.readouterr()
    written = captured.out + captured.err + caplog.text
    assert "GET /patients HTTP/1.1" in written
    assert "wilhelmina" not in written.lower() and "quartermaine" not in written.lower()


def test_development_logs_are_text_with_the_request_id(app, capsys):
    logs.configure(production=False)
    with app.test_request_context(headers={"X-Request-Id": "dev-request-1"}):
        app.logger.warning("plain words")
    err = capsys.readouterr().err
    line = next(line for line in err.splitlines() if "plain words" in line)
    assert "WARNING" in line and "[dev-request-1]" in line and not line.startswith("{")


def test_gunicorn_writes_no_access_log():
    command = (ROOT / "Dockerfile").read_text() + (ROOT / "Makefile").read_text()
    assert "gunicorn" in command and "access-log" not in command and "access_log" not in command
