"""POST /hooks/scheduler/ingest: Cloud Scheduler starts an ingestion run."""

from flask import jsonify

from webapp.auth.decorators import machine_only
from webapp.hooks import bp
from webapp.hooks.oidc import caller_email, oidc_required
from webapp.services.audit.events import record_event
from webapp.services.audit.sealing import seal_or_log
from webapp.services.ingestion.launcher import start_run


@bp.route("/scheduler/ingest", methods=["POST"])
@machine_only
@oidc_required("scheduler.ingest")
def scheduler_ingest():
    """Start a run over $STORAGE_URI/incoming: 202 with its id, 409 if one is in progress."""
    result = start_run("scheduler")
    details = {"hook": "scheduler.ingest", "run_id": result.run.id, "started": result.started}
    record_event("hook.scheduler", details=details, actor_email=caller_email())
    seal_or_log()  # the nightly call also chains whatever the day's requests left unsealed
    if not result.started:
        return jsonify(error="a run is already in progress", run_id=result.run.id), 409
    return jsonify(run_id=result.run.id), 202
