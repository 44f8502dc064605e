"""The cost table across patients and its CSV export."""

from flask import request
from flask_login import current_user
from jinja2_fragments.flask import render_block

from webapp.auth.decorators import permission_required
from webapp.clinic import bp
from webapp.common.paging import Page, parse_page
from webapp.models.permissions import PATIENTS_READ
from webapp.services.audit.events import record_event
from webapp.services.costs.table import EXPORT_LIMIT, iter_cost_rows, latest_costs_page
from webapp.services.patients.scope import scope_of
from webapp.web.downloads import csv_response
from webapp.web.htmx import render_page

COST_HEADER = ("patient_id", "patient", "month", "total_cost", "record_count", "updated_at")


def _rows_html(rows: list) -> str:
    # Rendered once per page of rows and cached with them: a row per include is most of the
    # page's time, and the rows are the same for everyone in the scope.
    return render_block("clinic/costs.html", "cost_rows", page=Page(rows, 1, len(rows), len(rows)))


@bp.route("/costs")
@permission_required(PATIENTS_READ)
def costs():
    """The most recently updated monthly costs of the doctor's patients, newest first."""
    page, rows_html = latest_costs_page(
        parse_page(request.args.get("page")), scope_of(current_user), present=_rows_html
    )
    response = render_page(
        "clinic/costs.html", "cost_table", page=page, rows_html=rows_html, limit=EXPORT_LIMIT
    )
    record_event("costs.view", details={"page": page.page}, durable=False)
    return response


@bp.route("/costs.csv")
@permission_required(PATIENTS_READ)
def costs_csv():
    """The newest cost rows of the doctor's patients as CSV."""
    record_event("costs.export", details={"limit": EXPORT_LIMIT})
    scope = scope_of(current_user)

    def rows():
        for r in iter_cost_rows(scope):
            yield (
                r.patient_id,
                r.patient_name,
                r.month,
                f"{r.total:.2f}",
                r.record_count,
                r.updated_at.isoformat(),
            )

    return csv_response("costs.csv", COST_HEADER, rows)
