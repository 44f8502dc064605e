"""Emergency (break-the-glass) accesses for AIPHAS review: who, which patient, when and why."""

from flask import flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select

from webapp.admin import bp
from webapp.admin.access_forms import ReviewForm
from webapp.auth.decorators import permission_required
from webapp.common.paging import paginate, parse_page
from webapp.extensions import db
from webapp.models import BreakGlassGrant
from webapp.models.permissions import AUDIT_READ
from webapp.services.audit.events import record_event
from webapp.services.patients.break_glass import REASONS, review_grant
from webapp.services.patients.scope import hospital_names_of
from webapp.web.htmx import render_page

PER_PAGE = 50
SHOW = ("open", "all")


@bp.route("/access/emergency")
@permission_required(AUDIT_READ)
def emergency_access():
    """Every break-the-glass grant, newest first; `show=open` (default) lists the unreviewed."""
    show = request.args.get("show", "open")
    show = show if show in SHOW else "open"
    stmt = select(BreakGlassGrant).order_by(BreakGlassGrant.granted_at.desc(), BreakGlassGrant.id)
    if show == "open":
        stmt = stmt.where(BreakGlassGrant.reviewed_at.is_(None))
    page = paginate(db.session, stmt, parse_page(request.args.get("page")), PER_PAGE)
    # Patients by internal id and hospital only: this list is for AIPHAS, who see no names.
    hospitals = hospital_names_of(grant.patient_id for grant in page.items)
    response = render_page(
        "admin/emergency.html",
        "grants",
        page=page,
        show=show,
        hospitals=hospitals,
        reasons=REASONS,
        form=ReviewForm(),
    )
    record_event("access.emergency_view", details={"show": show, "page": page.page})
    return response


@bp.route("/access/emergency/<int:grant_id>/review", methods=["POST"])
@permission_required(AUDIT_READ)
def emergency_review(grant_id: int):
    """Mark one emergency access reviewed."""
    form = ReviewForm()
    if not form.validate_on_submit():
        flash("This form has expired. Reload the page.")
        return redirect(url_for("admin.emergency_access"), code=303)
    grant = review_grant(grant_id, current_user.id)
    if grant is None:
        return redirect(url_for("admin.emergency_access"), code=303)
    record_event(
        "access.break_glass_review",
        patient_id=grant.patient_id,
        target_user_id=grant.user_id,
        details={"grant_id": grant.id},
    )
    flash(f"Emergency access #{grant.id} marked reviewed.")
    return redirect(url_for("admin.emergency_access"), code=303)
