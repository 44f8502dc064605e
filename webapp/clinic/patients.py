"""Patient search, the patient chart and its CSV export."""

import hashlib
from functools import cache

from flask import abort, request
from flask_login import current_user
from jinja2_fragments.flask import render_block
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from webapp.auth.decorators import permission_required
from webapp.clinic import bp
from webapp.clinic.access import restricted
from webapp.extensions import db
from webapp.models import RECORD_KINDS, Patient
from webapp.models.permissions import PATIENTS_READ
from webapp.services.audit.events import record_event
from webapp.services.costs.cache import cached, patient_cost_key
from webapp.services.costs.chart import cost_summary, load_series
from webapp.services.patients.chart import iter_visits, parse_filter, patient_visits
from webapp.services.patients.scope import scope_of, viewer_params, viewer_sees
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


# Only what carries no identity may come in a URL; the search itself is POSTed.
URL_SAFE_ARGS = ("sort", "page")


@bp.route("/patients", methods=["GET", "POST"])
@permission_required(PATIENTS_READ)
def patients():
    """Search the doctor's patients by name, date of birth or source identifier (POST)."""
    if request.method == "POST":
        query = parse_query(request.form)
    else:
        query = parse_query(
            {key: request.args[key] for key in URL_SAFE_ARGS if key in request.args}
        )
    page = search_patients(query, scope_of(current_user))
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


def _patient_or_404(patient_id: int) -> tuple[Patient, bool]:
    """The patient and whether the doctor's scope allows them, in one statement."""
    params = {"patient_id": patient_id, **viewer_params(current_user)}
    found = db.session.execute(_patient_statement(), params).unique().first()
    if found is None:
        abort(404)
    return found[0], bool(found[1])


@cache
def _patient_statement():
    # Built once: every chart view runs it, and a statement object keeps its compiled form.
    # The identifiers come in the same query: the chart always shows them.
    return (
        select(Patient, viewer_sees(Patient.id).label("visible"))
        .where(Patient.id == bindparam("patient_id"))
        .options(joinedload(Patient.identifiers))
    )


def _cost_block(patient: Patient) -> str:
    """The chart's cost block (SVG, rows, total) as HTML, cached until the patient's costs are
    cleared (every load that writes them does); the name is part of the key as the SVG shows it."""
    name = hashlib.sha256(patient.full_name.encode()).hexdigest()[:16]

    def render() -> str:
        summary = cost_summary(load_series(patient.id))
        return render_block("clinic/chart.html", "cost_summary", patient=patient, **summary)

    key = f"costs:chart-block:{patient.id}:{name}"
    return cached(patient_cost_key(patient.id), key, render)


@bp.route("/patients/<int:patient_id>")
@permission_required(PATIENTS_READ)
def chart(patient_id: int):
    """The chart: demographics, sources, monthly costs and the records."""
    patient, visible = _patient_or_404(patient_id)
    if not visible:
        return restricted(patient)
    flt = parse_filter(request.args)
    visits = patient_visits(patient_id, flt)
    response = render_page(
        "clinic/chart.html",
        "records",
        patient=patient,
        flt=flt,
        visits=visits,
        cost_block=_cost_block(patient),
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
    patient, visible = _patient_or_404(patient_id)
    if not visible:
        return restricted(patient)
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
