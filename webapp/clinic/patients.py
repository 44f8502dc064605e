"""Patient search."""

from flask import render_template, request
from sqlalchemy import select

from webapp.auth.decorators import permission_required
from webapp.auth.permissions import PATIENTS_READ
from webapp.clinic import bp
from webapp.extensions import db
from webapp.models import Patient
from webapp.services.audit import record_event


@bp.route("/patients")
@permission_required(PATIENTS_READ)
def patients():
    """List patients, newest first, filtered by name."""
    query = request.args.get("q", "").strip()
    stmt = select(Patient).order_by(Patient.family_name, Patient.given_name)
    if query:
        stmt = stmt.where(Patient.search_name.contains(query.lower()))
    page = db.paginate(stmt, per_page=25, error_out=False)
    record_event("patients.search", details={"query": query, "page": page.page})
    return render_template("clinic/patients.html", page=page, query=query)
