"""Ingestion runs: the list, one run with its rejects, "Run now" and "Cancel"."""

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select

from webapp.admin import bp
from webapp.auth.decorators import permission_required
from webapp.common.paging import paginate, parse_page
from webapp.extensions import db
from webapp.models import PipelineRun
from webapp.models.permissions import PIPELINE_RUN
from webapp.services.audit.events import record_event
from webapp.services.ingestion import rejects as run_rejects
from webapp.services.ingestion.launcher import start_run
from webapp.services.ingestion.runs import ACTIVE_STATUSES
from webapp.services.ingestion.watchdog import cancel_run, check_runs
from webapp.web.downloads import csv_response
from webapp.web.htmx import is_htmx_swap, render_page

RUNS_PER_PAGE = 25
REJECTS_PER_PAGE = 50


def _page_number() -> int:
    return parse_page(request.args.get("page"))


def _any_active(runs) -> bool:
    return any(run.status in ACTIVE_STATUSES for run in runs)


@bp.route("/runs")
@permission_required(PIPELINE_RUN)
def runs():
    """Every run, newest first; the table polls itself while a run is going."""
    check_runs()  # a stuck run is shown failed with its reason, not "running" forever
    stmt = select(PipelineRun).order_by(PipelineRun.started_at.desc(), PipelineRun.id.desc())
    page = paginate(db.session, stmt, _page_number(), RUNS_PER_PAGE)
    return render_page("admin/runs.html", "runs_table", page=page, polling=_any_active(page.items))


@bp.route("/runs/<run_id>")
@permission_required(PIPELINE_RUN)
def run(run_id: str):
    """One run's figures and its rejects (redacted: no value of a refused row), paginated."""
    check_runs()
    pipeline_run = db.get_or_404(PipelineRun, run_id)
    number = _page_number()
    if not is_htmx_swap():
        # The summary's own 2 s polling is one look at the page, not one per poll.
        record_event("run.viewed", details={"run_id": run_id, "page": number})
    rejects = run_rejects.page_of_rejects(run_id, number, REJECTS_PER_PAGE)
    polling = pipeline_run.status in ACTIVE_STATUSES
    # The page polls its summary block while the run is going.
    return render_page(
        "admin/run.html", "summary", run=pipeline_run, rejects=rejects, polling=polling
    )


@bp.route("/runs/<run_id>/rejects.csv")
@permission_required(PIPELINE_RUN)
def run_rejects_csv(run_id: str):
    """Stream a run's rejects as CSV in the same redacted form as the page; audited."""
    db.get_or_404(PipelineRun, run_id)
    record_event("run.rejects_exported", details={"run_id": run_id})
    return csv_response(
        f"rejects-{run_id}.csv",
        run_rejects.CSV_COLUMNS,
        lambda: run_rejects.export_rows(run_id),
    )


@bp.route("/runs", methods=["POST"])
@permission_required(PIPELINE_RUN)
def run_now():
    """Start a run as the Scheduler hook does, unless one is already going."""
    result = start_run("manual", started_by_id=current_user.id)
    record_event("run.start", details={"run_id": result.run.id, "started": result.started})
    if result.started:
        flash(f"Run {result.run.id} started.")
    else:
        flash(f"Run {result.run.id} is still in progress; no second run was started.")
    return redirect(url_for("admin.runs"), code=303)


@bp.route("/runs/<run_id>/cancel", methods=["POST"])
@permission_required(PIPELINE_RUN)
def cancel(run_id: str):
    """Cancel a run in progress (its Dataflow job through the API); audited either way."""
    if db.session.scalar(select(PipelineRun.id).where(PipelineRun.id == run_id)) is None:
        abort(404)
    cancelled, message = cancel_run(run_id, by=current_user.email)
    record_event("run.cancel", details={"run_id": run_id, "cancelled": cancelled})
    flash(message)
    return redirect(url_for("admin.run", run_id=run_id), code=303)
