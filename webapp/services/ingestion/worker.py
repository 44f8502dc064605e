"""Runs started by a request execute here, in a thread with an app context of its own."""

import threading

from flask import Flask

_threads: dict[str, threading.Thread] = {}


def _work(app: Flask, run_id: str) -> None:
    from webapp.extensions import db
    from webapp.services.ingestion import runs as ingestion

    with app.app_context():
        try:
            ingestion.execute_run(run_id)
        except Exception:
            pass  # execute_run has marked the run failed and logged why
        finally:
            db.session.remove()
            _threads.pop(run_id, None)


def submit(app: Flask, run_id: str) -> threading.Thread:
    """Run the pipeline and the load of `run_id` in the background; return the thread."""
    thread = threading.Thread(target=_work, args=(app, run_id), name=f"run-{run_id}", daemon=True)
    _threads[run_id] = thread
    thread.start()
    return thread


def running_thread(run_id: str) -> threading.Thread | None:
    """The worker thread of a run started by this process, while it lives."""
    return _threads.get(run_id)


def wait_for_all(timeout: float = 120.0) -> None:
    """Block until every run started by this process has finished (tests, shutdown)."""
    for thread in list(_threads.values()):
        thread.join(timeout)
