"""The audit log: filter, page through and export the trail."""

from datetime import UTC, datetime

from flask import Response, current_app, render_template, request

from webapp.admin import bp
from webapp.admin.forms import AuditFilterForm
from webapp.auth.decorators import permission_required
from webapp.models.permissions import AUDIT_READ
from webapp.services.audit.events import record_event
from webapp.services.audit.trail import KNOWN_ACTIONS, AuditFilters, csv_lines, page_of_events


def _page_number() -> int:
    try:
        return max(1, int(request.args.get("page", 1)))
    except ValueError:
        return 1


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
    page = page_of_events(_filters(form), _page_number()) if valid else None
    context = {
        "form": form,
        "page": page,
        "filter_args": _filter_args(),
        "known_actions": KNOWN_ACTIONS,
    }
    # Errors show next to their fields on a normal page, as for any form a person got wrong.
    return render_template("admin/audit.html", **context)


def _streamed(app, filters: AuditFilters):
    # Its own app context (and session), entered only once the server starts reading: a
    # response that is never read leaves no context behind, one that is read all releases it.
    with app.app_context():
        yield from csv_lines(filters)


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
    response = Response(_streamed(current_app._get_current_object(), filters), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response
