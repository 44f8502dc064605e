"""The life of an ingestion run: create it, run the pipeline, load its output, record the result."""

from collections.abc import Callable

from flask import current_app
from sqlalchemy import select, update

from pipeline.contract import new_run_id
from webapp.common.clock import utcnow
from webapp.extensions import db
from webapp.models import PipelineRun
from webapp.models.pipeline_run import ACTIVE_RUN_STATUSES
from webapp.services import storage
from webapp.services.costs import live_events
from webapp.services.ingestion.heartbeat import heartbeats
from webapp.services.ingestion.loader import LoadSummary, load_output

ACTIVE_STATUSES = ACTIVE_RUN_STATUSES


class RunStopped(Exception):
    """The run was cancelled or marked failed while it worked; its work is thrown away."""


def default_inputs() -> list[str]:
    """$STORAGE_URI/incoming, where hospital systems drop their exports."""
    return [storage.join(current_app.config["STORAGE_URI"], "incoming")]


def output_uri_for(run_id: str) -> str:
    """Where a run's pipeline writes: $STORAGE_URI/output/<run_id>."""
    return storage.join(current_app.config["STORAGE_URI"], "output", run_id)


def active_run() -> PipelineRun | None:
    """The run still in progress, if any."""
    return db.session.scalar(
        select(PipelineRun)
        .where(PipelineRun.status.in_(ACTIVE_STATUSES))
        .order_by(PipelineRun.started_at.desc())
    )


def create_run(
    trigger: str,
    inputs: list[str] | None = None,
    started_by_id: int | None = None,
    run_id: str | None = None,
) -> PipelineRun:
    """Record a queued run and commit it, so it is visible before any work starts."""
    run_id = run_id or new_run_id()
    run = PipelineRun(
        id=run_id,
        trigger=trigger,
        status="queued",
        input_uris=inputs or default_inputs(),
        output_uri=output_uri_for(run_id),
        started_by_id=started_by_id,
    )
    db.session.add(run)
    db.session.commit()
    return run


def _input_files(inputs: list[str]) -> list[str]:
    files = []
    for uri in inputs:
        is_folder = not storage.is_gcs(uri) and not any(c in uri for c in "*?[")
        files += storage.list_files(uri) if is_folder and not storage.exists(uri) else [uri]
    return files


def execute_run(
    run_id: str,
    source_system: str | None = None,
    on_stage: Callable[[str], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> LoadSummary:
    """Run the pipeline over the run's inputs, then load its output; failures mark the run."""
    # Beam is heavy: import it only when a run starts.
    from pipeline.run import local_worker_args, run_pipeline

    run = db.session.get(PipelineRun, run_id)
    stage = on_stage or (lambda _text: None)
    try:
        with heartbeats(run_id):
            _advance(run, "running")
            if not _input_files(run.input_uris):
                raise ValueError(f"no input files under {', '.join(run.input_uris)}")
            stage(f"Pipeline: reading {', '.join(run.input_uris)}")
            run_pipeline(
                run.input_uris,
                run.output_uri,
                source_system=source_system,
                run_id=run.id,
                extra_args=local_worker_args(current_app.config.get("PIPELINE_WORKERS", 1)),
            )
            _advance(run, "loading")
            stage(f"Loading {run.output_uri}")
            return load_run(run, on_progress)
    except RunStopped:
        db.session.rollback()
        raise
    except Exception as exc:
        db.session.rollback()
        finish(run_id, "failed", f"{type(exc).__name__}: {exc}")
        current_app.logger.error("run %s failed", run_id, exc_info=True)
        raise


def load_run(run: PipelineRun, on_progress: Callable[[int], None] | None = None) -> LoadSummary:
    """Load a run's finished output in one transaction and mark it succeeded."""
    snapshot = live_events.before_cost_write()
    summary = load_output(run.output_uri, run, on_progress)
    # Locks the run's row: a cancel either landed before (the load is undone) or waits.
    status = db.session.scalar(
        select(PipelineRun.status).where(PipelineRun.id == run.id).with_for_update()
    )
    if status != "loading":
        db.session.rollback()
        raise RunStopped(f"run {run.id} was {status} while loading; nothing was loaded")
    run.status = "succeeded"
    run.finished_at = utcnow()
    db.session.commit()
    live_events.publish_after_commit(snapshot)
    return summary


def _advance(run: PipelineRun, status: str) -> None:
    """Move an active run to its next stage; RunStopped if it was cancelled or failed meanwhile."""
    moved = db.session.execute(
        update(PipelineRun)
        .where(PipelineRun.id == run.id, PipelineRun.status.in_(ACTIVE_STATUSES))
        .values(status=status)
    ).rowcount
    db.session.commit()
    if not moved:
        raise RunStopped(f"run {run.id} was {run.status} before it reached {status}")


def finish(run_id: str, status: str, reason: str | None) -> bool:
    """End an active run as failed or cancelled with its reason; False if it had ended already."""
    ended = db.session.execute(
        update(PipelineRun)
        .where(PipelineRun.id == run_id, PipelineRun.status.in_(ACTIVE_STATUSES))
        .values(status=status, error=(reason or "")[:2000] or None, finished_at=utcnow())
    ).rowcount
    db.session.commit()
    return bool(ended)


def load_progress_total(output_uri: str) -> int:
    """How many records the load of this output will go through."""
    from webapp.services.ingestion.loader.output_files import read_manifest

    return int(read_manifest(output_uri).get("counts", {}).get("records", 0))
