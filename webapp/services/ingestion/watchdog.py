"""Runs that cannot get stuck: Dataflow runs follow their job, silent runs fail, people cancel.

`check_runs()` is called by the scheduler hook (before it looks for a run in progress), by the
runs pages and by `flask runs check`; so no run blocks ingestion for more than RUN_STALE_MINUTES.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.exc import OperationalError

from webapp.common.clock import as_utc, utcnow
from webapp.extensions import db
from webapp.models import PipelineRun
from webapp.models.pipeline_run import ACTIVE_RUN_STATUSES
from webapp.services.ingestion import dataflow
from webapp.services.ingestion.runs import finish

log = logging.getLogger(__name__)

# A job confirmed alive this recently is not asked again: the runs pages poll every 2 s per
# viewer, and each Dataflow call is a network round trip against a per-project API quota.
JOB_POLL_INTERVAL = timedelta(seconds=15)


@dataclass(frozen=True)
class RunChange:
    """A run the check or a cancel ended, and why."""

    run_id: str
    status: str
    reason: str


def stale_after() -> timedelta:
    """How long a run may go without a sign of life (RUN_STALE_MINUTES, default 10)."""
    return timedelta(minutes=float(current_app.config.get("RUN_STALE_MINUTES", 10)))


def _active_runs(polled_before: datetime | None = None) -> list[PipelineRun]:
    # SKIP LOCKED: a run whose row a load holds is alive by definition, and is not waited for.
    stmt = select(PipelineRun).where(PipelineRun.status.in_(ACTIVE_RUN_STATUSES))
    if polled_before is not None:  # Dataflow runs whose job was not confirmed alive since then
        stmt = stmt.where(
            PipelineRun.dataflow_job_id.is_not(None),
            or_(PipelineRun.heartbeat_at.is_(None), PipelineRun.heartbeat_at < polled_before),
        )
    return list(db.session.scalars(stmt.with_for_update(skip_locked=True)))


def check_runs() -> list[RunChange]:
    """Reconcile active Dataflow runs with their jobs, then fail runs silent for too long."""
    changes = reconcile_dataflow_runs()
    changes += fail_stale_runs()
    for change in changes:
        log.warning("run %s marked %s: %s", change.run_id, change.status, change.reason)
    return changes


def fail_stale_runs(now: datetime | None = None) -> list[RunChange]:
    """Mark failed every active run without a heartbeat for RUN_STALE_MINUTES."""
    now, limit = now or utcnow(), stale_after()
    changes = []
    for run in _active_runs():
        last = as_utc(run.heartbeat_at or run.started_at)
        if now - last <= limit:
            continue
        reason = (
            f"No heartbeat for {limit.total_seconds() / 60:g} minutes (last sign of life"
            f" {last:%Y-%m-%d %H:%M:%S} UTC): the process running it stopped."
        )
        changes.append(RunChange(run.id, "failed", reason))
    db.session.commit()  # releases the row locks before the updates take them one by one
    return [change for change in changes if finish(change.run_id, "failed", change.reason)]


def reconcile_dataflow_runs(now: datetime | None = None) -> list[RunChange]:
    """Follow each active Dataflow run's job: ended jobs fail the run, live ones keep it alive."""
    now, limit = now or utcnow(), stale_after()
    changes = []
    for run in _active_runs(polled_before=now - JOB_POLL_INTERVAL):
        try:
            job = dataflow.get_job(run.dataflow_job_id)
        except Exception as exc:  # Dataflow unreachable: the heartbeat rule decides later
            log.warning(
                "Dataflow job %s of run %s unreadable: %s", run.dataflow_job_id, run.id, exc
            )
            continue
        state = job.current_state.name
        reason = _ended_reason(run, state, as_utc(job.current_state_time), now, limit)
        if reason:
            changes.append(RunChange(run.id, "failed", reason))
        else:
            run.heartbeat_at = now
    db.session.commit()
    return [change for change in changes if finish(change.run_id, "failed", change.reason)]


def _ended_reason(run, state: str, since: datetime | None, now: datetime, limit) -> str | None:
    job = f"Dataflow job {run.dataflow_job_id}"
    if state in dataflow.ENDED_WITHOUT_OUTPUT:
        return f"{job} ended in {state}."
    if state == dataflow.DONE and run.status != "loading" and since and now - since > limit:
        return (
            f"{job} finished at {since:%Y-%m-%d %H:%M:%S} UTC but its output was not loaded:"
            f" no _SUCCESS notification within {limit.total_seconds() / 60:g} minutes."
        )
    return None


def cancel_run(run_id: str, by: str) -> tuple[bool, str]:
    """Cancel an active run (its Dataflow job too); (done, what to tell the person)."""
    try:
        run = db.session.get(PipelineRun, run_id, with_for_update={"nowait": True})
    except OperationalError:  # a load holds the row right now
        db.session.rollback()
        return False, f"Run {run_id} is being loaded right now and can no longer be cancelled."
    if run is None or run.status not in ACTIVE_RUN_STATUSES:
        db.session.rollback()
        if run is None:
            return False, f"There is no run {run_id}."
        return False, f"Run {run_id} has already ended ({run.status}); nothing to cancel."
    if run.dataflow_job_id:
        refusal = _cancel_job(run.dataflow_job_id)
        if refusal:
            db.session.rollback()
            return False, refusal
    db.session.commit()
    if not finish(run_id, "cancelled", f"Cancelled by {by}."):
        return False, f"Run {run_id} ended before it could be cancelled."
    return True, f"Run {run_id} cancelled."


def _cancel_job(job_id: str) -> str | None:
    from google.api_core.exceptions import NotFound

    try:
        dataflow.cancel_job(job_id)
    except NotFound:
        return None  # no such job any more: cancelling the run is all there is to do
    except Exception as exc:
        log.warning("Dataflow refused to cancel job %s: %s", job_id, exc)
        return f"Dataflow did not cancel job {job_id} ({type(exc).__name__}); the run goes on."
    return None
