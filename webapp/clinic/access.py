"""Patients outside a doctor's hospital: the restricted page and breaking the glass."""

from flask import current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from webapp.auth.decorators import permission_required
from webapp.clinic import bp
from webapp.clinic.forms import BreakGlassForm
from webapp.extensions import db
from webapp.models import Patient
from webapp.models.permissions import PATIENTS_READ
from webapp.services.audit.events import record_event
from webapp.services.patients.break_glass import grant_access
from webapp.services.patients.scope import can_see, hospital_names_of, scope_of


def restricted(patient: Patient, form: BreakGlassForm | None = None, status: int = 403):
    """The "restricted" page: what an outside doctor may know of the patient, and the form."""
    record_event("access.restricted", patient_id=patient.id)
    hospitals = hospital_names_of([patient.id]).get(patient.id, ())
    page = render_template(
        "clinic/restricted.html",
        patient=patient,
        hospitals=hospitals,
        form=form or BreakGlassForm(),
        hours=current_app.config["BREAK_GLASS_HOURS"],
    )
    return page, status


@bp.route("/patients/<int:patient_id>/break-glass", methods=["POST"])
@permission_required(PATIENTS_READ)
def break_glass(patient_id: int):
    """Grant the doctor emergency access to this patient for BREAK_GLASS_HOURS, audited."""
    patient = db.get_or_404(Patient, patient_id)
    if can_see(scope_of(current_user), patient_id):
        return redirect(url_for("clinic.chart", patient_id=patient_id), code=303)
    form = BreakGlassForm()
    if not form.validate_on_submit():
        return restricted(patient, form, status=400)
    grant = grant_access(current_user.id, patient_id, form.reason.data, form.details.data)
    record_event(
        "access.break_glass",
        patient_id=patient_id,
        details={
            "grant_id": grant.id,
            "reason": grant.reason_code,
            "text": grant.reason_text,
            "expires_at": grant.expires_at.isoformat(),
        },
    )
    flash("Emergency access granted. It is recorded and will be reviewed.")
    return redirect(url_for("clinic.chart", patient_id=patient_id), code=303)
