"""Costs by patient and month (minimal: the clinic branch owns the full pages)."""

from flask import render_template
from sqlalchemy import select

from webapp.auth.decorators import permission_required
from webapp.auth.permissions import PATIENTS_READ
from webapp.clinic import bp
from webapp.extensions import db
from webapp.models import Patient, PatientCost
from webapp.services.audit import record_event


def _row(cost: PatientCost, patient: Patient) -> dict:
    return {
        "patient_id": cost.patient_id,
        "month": cost.month,
        "patient_name": patient.full_name,
        "total": cost.total_cost,
        "record_count": cost.record_count,
        "updated_at": cost.updated_at,
    }


@bp.route("/costs")
@permission_required(PATIENTS_READ)
def costs():
    """Monthly costs, most recently changed first, updated live."""
    stmt = (
        select(PatientCost, Patient)
        .join(Patient, Patient.id == PatientCost.patient_id)
        .order_by(PatientCost.updated_at.desc(), PatientCost.id.desc())
    )
    page = db.paginate(stmt, per_page=50, error_out=False, count=True)
    page.items = [_row(cost, patient) for cost, patient in page.items]
    record_event("costs.list", details={"page": page.page})
    return render_template("clinic/costs.html", page=page)


@bp.route("/patients/<int:patient_id>")
@permission_required(PATIENTS_READ)
def chart(patient_id: int):
    """One patient's monthly costs, updated live."""
    patient = db.get_or_404(Patient, patient_id)
    months = db.session.scalars(
        select(PatientCost)
        .where(PatientCost.patient_id == patient_id)
        .order_by(PatientCost.month.desc())
    ).all()
    record_event("patient.chart", patient_id=patient_id)
    return render_template("clinic/chart.html", patient=patient, months=months)
