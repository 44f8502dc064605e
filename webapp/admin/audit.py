"""The audit log: filter, page through and export the trail."""

from datetime import UTC, datetime

from flask import render_template, request

from webapp.admin import bp
from webapp.admin.forms import AuditFilterForm
from webapp.auth.decorators import permission_required
from webapp.common.paging import parse_page
from webapp.models.permissions import AUDIT_READ
from webapp.services.audit.events import record_event
from webapp.services.audit.trail import (
    CSV_COLUMNS,
    KNOWN_ACTIONS,
    AuditFilters,
    export_rows,
    page_of_events,
)
from webapp.services.audit.trail_state import fresh_seconds, trail_state
from webapp.services.audit.verify import TAIL_ROWS
from webapp.web.downloads import csv_response


def _filters(form: AuditFilterForm) -> AuditFilters:
    return AuditFilters(
        user=(form.user.data or "").strip(),
        action=(form.action.data or "").strip(),
        patient_id=int(form.patient.data) if form.patient.data else None,
        date_from=form.date_from.data,
        date_to=form.date_to.data,
    )


def _filter_args() -> dict:
    names = ("user", "action", "patient", "date_from", "date_to")
    return {name: request.args[name] for name in names if request.args.get(name)}


@bp.route("/audit")
@permission_required(AUDIT_READ)
def audit():
    """Filter and page through audit rows, newest first; ?format=csv exports them."""
    if request.args.get("format") == "csv":
        return audit_csv()
    form = AuditFilterForm(request.args)
    valid = form.validate()
    number = parse_page(request.args.get("page"))
    filters = _filters(form) if valid else None
    page = page_of_events(filters, number) if filters else None
    context = {
        "form": form,
        "page": page,
        "filter_args": _filter_args(),
        "known_actions": KNOWN_ACTIONS,
        "trail": trail_state(),
        "tail_rows": TAIL_ROWS,
        "tail_seconds": fresh_seconds(),
    }
    # Errors show next to their fields on a normal page, as for any form a person got wrong.
    response = render_template("admin/audit.html", **context)
    # Written after rendering, like every read view's row: its commit would expire the signed-in
    # user the page shows and cost a reload; the next view lists it.
    record_event(
        "audit.viewed",
        details={"filters": filters.as_details() if filters else "invalid", "page": number},
        durable=False,
    )
    return response


@bp.route("/audit.csv")
@permission_required(AUDIT_READ)
def audit_csv():
    """Stream the filtered rows as a CSV download; the export is itself audited."""
    form = AuditFilterForm(request.args)
    if not form.validate():
        context = {"form": form, "page": None, "filter_args": {}, "known_actions": KNOWN_ACTIONS}
        return render_template("admin/audit.html", **context), 400
    filters = _filters(form)
    record_event("audit.exported", details={"filters": filters.as_details()})
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return csv_response(f"audit-{stamp}.csv", CSV_COLUMNS, lambda: export_rows(filters))
