"""Starting an ingestion run once: never a second run while one is in progress."""

from dataclasses import dataclass

from flask import current_app

from webapp.database import single_run_lock
from webapp.extensions import db
from webapp.models import PipelineRun
from webapp.services.ingestion import runs as ingestion
from webapp.services.ingestion.watchdog import check_runs

# Any constant will do: it names the one advisory lock that serialises "check, then create".
RUN_LOCK_KEY = 0x61694B6579


@dataclass
class StartResult:
    """The run that was started, or the one already in progress."""

    run: PipelineRun
    started: bool


def claim_run(
    trigger: str, inputs: list[str] | None = None, started_by_id: int | None = None
) -> StartResult:
    """Create a queued run unless one is active; stuck runs are ended first, never waited on."""
    check_runs()
    # Held until create_run commits (or the rollback), so no two callers both see "no run".
    with single_run_lock(RUN_LOCK_KEY):
        active = ingestion.active_run()
        if active is not None:
            db.session.rollback()
            return StartResult(active, started=False)
        run = ingestion.create_run(trigger, inputs, started_by_id=started_by_id)
    return StartResult(run, started=True)


def start_run(trigger: str, started_by_id: int | None = None) -> StartResult:
    """Create a run over $STORAGE_URI/incoming unless one is active, then hand it off."""
    result = claim_run(trigger, started_by_id=started_by_id)
    if result.started:
        dispatch(result.run)
    return result


def dispatch(run: PipelineRun) -> None:
    """Send the run to Dataflow or to this process's background worker."""
    if current_app.config["PIPELINE_RUNNER"] == "dataflow":
        from webapp.services.ingestion import dataflow

        dataflow.launch(run)
    else:
        from webapp.services.ingestion import worker as run_worker

        run_worker.submit(current_app._get_current_object(), run.id)
