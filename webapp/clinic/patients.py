"""Patient search, the patient chart and its CSV export."""

from flask import abort, request
from sqlalchemy.orm import joinedload

from webapp.auth.decorators import permission_required
from webapp.clinic import bp
from webapp.extensions import db
from webapp.models import RECORD_KINDS, Patient
from webapp.models.permissions import PATIENTS_READ
from webapp.services.audit.events import record_event
from webapp.services.costs.chart import bar_chart, cost_series, series_total
from webapp.services.patients.chart import iter_visits, parse_filter, patient_visits
from webapp.services.patients.search import SORTS, parse_query, search_patients
from webapp.web.downloads import csv_response
from webapp.web.htmx import render_page

SORT_LABELS = {
    "name": "Name A to Z",
    "-name": "Name Z to A",
    "dob": "Oldest first",
    "-dob": "Youngest first",
}
RECORD_HEADER = ("date", "kind", "diagnosis", "treatment", "prescription", "cost", "sources")


@bp.route("/patients")
@permission_required(PATIENTS_READ)
def patients():
    """Search patients by name, date of birth or source identifier."""
    query = parse_query(request.args)
    page = search_patients(query)
    response = render_page(
        "clinic/patients.html",
        "results",
        query=query,
        page=page,
        sorts={key: SORT_LABELS[key] for key in SORTS},
    )
    record_event(
        "patients.search",
        details={**query.as_args(), "page": page.page, "matches": page.total},
        durable=False,
    )
    return response


def _patient_or_404(patient_id: int) -> Patient:
    # The identifiers come in the same query: the chart always shows them.
    patient = db.session.get(Patient, patient_id, options=[joinedload(Patient.identifiers)])
    if patient is None:
        abort(404)
    return patient


@bp.route("/patients/<int:patient_id>")
@permission_required(PATIENTS_READ)
def chart(patient_id: int):
    """The chart: demographics, sources, monthly costs and the records."""
    patient = _patient_or_404(patient_id)
    flt = parse_filter(request.args)
    visits = patient_visits(patient_id, flt)
    series = cost_series(patient_id)
    response = render_page(
        "clinic/chart.html",
        "records",
        patient=patient,
        flt=flt,
        visits=visits,
        series=series,
        total=series_total(series),
        chart=bar_chart(series),
        kinds=RECORD_KINDS,
    )
    # Written after rendering so the commit does not expire the rows the page reads.
    record_event(
        "patients.chart_view",
        patient_id=patient_id,
        details={**flt.as_args(), "page": visits.page},
        durable=False,
    )
    return response


@bp.route("/patients/<int:patient_id>/records.csv")
@permission_required(PATIENTS_READ)
def records_csv(patient_id: int):
    """Every record of the patient as CSV, newest first."""
    _patient_or_404(patient_id)
    record_event("patients.records_export", patient_id=patient_id)

    def rows():
        for v in iter_visits(patient_id):
            sources = " + ".join(v.sources)
            yield (
                v.record_date.isoformat(),
                v.kind,
                v.diagnosis,
                v.treatment,
                v.prescription,
                f"{v.cost:.2f}",
                sources,
            )

    return csv_response(f"patient-{patient_id}-records.csv", RECORD_HEADER, rows)
