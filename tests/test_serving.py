"""The measured serving configuration is the one the image and `make serve` run."""

import os
import runpy
import subprocess
import sys
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


def test_web_nice_lowers_each_workers_priority_and_is_off_by_default():
    # In a child process: os.nice cannot be undone without privileges.
    code = (
        "import os, runpy; s = runpy.run_path('gunicorn.conf.py'); before = os.nice(0); "
        "s['post_fork'](None, None); print(before, os.nice(0))"
    )

    def niceness(value: str | None) -> tuple[int, int]:
        """The child's niceness before and after post_fork, with WEB_NICE=value."""
        env = {k: v for k, v in os.environ.items() if k != "WEB_NICE"}
        if value is not None:
            env["WEB_NICE"] = value
        run = subprocess.run(
            [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True
        )
        assert run.returncode == 0, run.stderr
        before, after = map(int, run.stdout.split())
        return before, after

    before, after = niceness("7")
    assert after == min(before + 7, 19)  # 19 is the lowest priority there is
    before, after = niceness(None)
    assert after == before


def test_each_worker_freezes_what_loading_the_app_created():
    # A full collection of the loaded app walked ~139,000 objects (76 ms on the bench machine)
    # while holding the GIL; frozen objects are never walked again.
    code = (
        "import gc, runpy; s = runpy.run_path('gunicorn.conf.py'); import wsgi; "
        "s['post_worker_init'](None); print(gc.get_freeze_count())"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert int(run.stdout.split()[-1]) > 50_000


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
