"""A run's sign of life: a thread writes pipeline_run.heartbeat_at while the run works."""

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app
from sqlalchemy import update

from webapp.common.clock import utcnow
from webapp.extensions import db
from webapp.models import PipelineRun
from webapp.models.pipeline_run import ACTIVE_RUN_STATUSES

log = logging.getLogger(__name__)


def beat(run_id: str) -> bool:
    """Record that the run is alive, in a transaction of its own; False once it has ended."""
    with db.engine.begin() as connection:
        result = connection.execute(
            update(PipelineRun)
            .where(PipelineRun.id == run_id, PipelineRun.status.in_(ACTIVE_RUN_STATUSES))
            .values(heartbeat_at=utcnow())
        )
    return result.rowcount > 0


def _beat_until(app: Flask, run_id: str, stop: threading.Event, every: float) -> None:
    with app.app_context():
        while not stop.wait(every):
            try:
                if not beat(run_id):
                    return  # cancelled or marked failed: nothing left to keep alive
            except Exception as exc:  # a busy or briefly unreachable database: try next time
                log.warning("heartbeat of run %s not written: %s", run_id, type(exc).__name__)


@contextmanager
def heartbeats(run_id: str) -> Iterator[None]:
    """Keep writing the run's heartbeat every RUN_HEARTBEAT_SECONDS while the block runs."""
    app = current_app._get_current_object()
    beat(run_id)
    stop = threading.Event()
    every = float(app.config.get("RUN_HEARTBEAT_SECONDS", 30))
    thread = threading.Thread(
        target=_beat_until, args=(app, run_id, stop, every), name=f"heartbeat-{run_id}", daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)
