"""Handling one Cloud Storage notification: a finished run's _SUCCESS loads that run, once."""

import re
from dataclasses import dataclass

from flask import current_app
from sqlalchemy.exc import IntegrityError

from pipeline.contract import SUCCESS
from webapp.common.clock import utcnow
from webapp.extensions import db
from webapp.models import PipelineRun, StorageEvent
from webapp.services import storage
from webapp.services.ingestion import runs as ingestion
from webapp.services.ingestion.loader.output_files import OutputNotReady

FINALIZE = "OBJECT_FINALIZE"
RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class StorageNotification:
    """The fields of a notification this app acts on."""

    event_type: str
    bucket: str
    object_name: str
    generation: str


def run_id_for(bucket: str, object_name: str) -> str | None:
    """The run whose _SUCCESS this object is, relative to $STORAGE_URI; None otherwise."""
    root = current_app.config["STORAGE_URI"]
    if storage.is_gcs(root):
        root_bucket, prefix = storage.split_gcs(root)
        if bucket != root_bucket:
            return None
    else:
        prefix = ""  # local storage: notifications name objects relative to the folder
    prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
    if not object_name.startswith(prefix):
        return None
    parts = object_name[len(prefix) :].split("/")
    if len(parts) != 3 or parts[0] != "output" or parts[2] != SUCCESS:
        return None
    return parts[1] if RUN_ID.match(parts[1]) else None


def handle_notification(note: StorageNotification) -> tuple[str, str | None]:
    """Load the run a _SUCCESS finalizes; return (outcome, run_id). Commits before returning."""
    run_id = run_id_for(note.bucket, note.object_name)
    if note.event_type != FINALIZE or run_id is None:
        return "ignored", run_id
    # The unique (bucket, object, generation) row is inserted in the load's own transaction:
    # a concurrent duplicate waits on it and then fails, a later one finds it.
    event = _event_row(note, run_id, "loaded")
    db.session.add(event)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return "duplicate", run_id
    run = db.session.get(PipelineRun, run_id, with_for_update=True) or _external_run(run_id)
    if run.status == "cancelled":  # someone stopped it: its output is not wanted
        event.outcome = "cancelled"
        db.session.commit()
        return event.outcome, run_id
    if run.status == "succeeded" or _worker_loads(run):
        # Loaded already, or this process's local worker is about to load it itself.
        event.outcome = "already_loaded" if run.status == "succeeded" else "left_to_worker"
        db.session.commit()
        return event.outcome, run_id
    run.status = "loading"
    try:
        ingestion.load_run(run)
    except OutputNotReady:
        # The _SUCCESS was deleted (a rerun cleared it) or never reached this storage: a retry
        # would find nothing either, so record it and acknowledge instead of failing forever.
        db.session.rollback()
        return _record_without_load(note, run_id, "no_output"), run_id
    return "loaded", run_id


def _event_row(note: StorageNotification, run_id: str, outcome: str) -> StorageEvent:
    return StorageEvent(
        bucket=note.bucket,
        object_name=note.object_name[:1024],
        generation=note.generation,
        event_type=note.event_type,
        run_id=run_id,
        outcome=outcome,
    )


def _record_without_load(note: StorageNotification, run_id: str, outcome: str) -> str:
    db.session.add(_event_row(note, run_id, outcome))
    try:
        db.session.commit()
    except IntegrityError:  # a concurrent delivery of the same event recorded it first
        db.session.rollback()
        return "duplicate"
    return outcome


def _worker_loads(run: PipelineRun) -> bool:
    from webapp.services.ingestion import worker as run_worker

    return run_worker.running_thread(run.id) is not None


def _external_run(run_id: str) -> PipelineRun:
    # A run this database has not seen (launched elsewhere, e.g. by hand on Dataflow).
    run = PipelineRun(
        id=run_id,
        trigger="pubsub",
        status="loading",
        input_uris=[],
        output_uri=ingestion.output_uri_for(run_id),
        started_at=utcnow(),
    )
    db.session.add(run)
    return run
