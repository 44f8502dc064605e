"""The measured serving configuration is the one the image and `make serve` run."""

import runpy
from pathlib import Path

import psycopg2.extensions

from webapp import database

ROOT = Path(__file__).resolve().parent.parent


def test_dockerfile_and_make_serve_run_the_one_gunicorn_config():
    cmd = (ROOT / "Dockerfile").read_text().split("CMD exec ", 1)[1]
    assert cmd.startswith("gunicorn --config gunicorn.conf.py wsgi:app")
    assert "COPY wsgi.py seed_data.py gunicorn.conf.py" in (ROOT / "Dockerfile").read_text()
    serve = (ROOT / "Makefile").read_text().split("\nserve:", 1)[1].split("\n\n", 1)[0]
    assert "--config gunicorn.conf.py" in serve and "--worker-class" not in serve


def test_config_logs_no_access_line_and_keeps_sockets_open(monkeypatch):
    for name in ("WEB_WORKER_CLASS", "WEB_CONCURRENCY", "WEB_THREADS", "WEB_WORKER_CONNECTIONS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PORT", "8123")
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert settings["accesslog"] is None
    assert settings["timeout"] == 0  # a WebSocket lives for hours
    assert settings["bind"] == "0.0.0.0:8123"
    assert settings["worker_connections"] == settings["threads"]
    # Every socket or request Cloud Run may send an instance (--concurrency 200) has a thread.
    assert settings["workers"] * settings["threads"] >= 200


def test_copy_pauses_a_green_wait_callback_and_restores_it():
    def callback(connection):  # psycopg2 calls it to wait; never reached here
        raise AssertionError("not expected")

    psycopg2.extensions.set_wait_callback(callback)
    try:
        with database._blocking_driver():
            with database._blocking_driver():
                assert psycopg2.extensions.get_wait_callback() is None
            assert psycopg2.extensions.get_wait_callback() is None
        assert psycopg2.extensions.get_wait_callback() is callback
    finally:
        psycopg2.extensions.set_wait_callback(None)
