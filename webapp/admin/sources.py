"""Source systems: which hospital each system's exports (and so its patients) belong to."""

from flask import flash, redirect, render_template, url_for

from webapp.admin import bp
from webapp.admin.access_forms import AssignForm, SourceForm
from webapp.auth.decorators import permission_required
from webapp.extensions import db
from webapp.models import SourceSystem
from webapp.models.permissions import USERS_MANAGE
from webapp.services.audit.events import record_event
from webapp.services.ingestion.sources import (
    SourceError,
    assign_source,
    list_sources,
    register_source,
)


def _code(hospital) -> str | None:
    return hospital.code if hospital is not None else None


def _page(form: SourceForm, status: int = 200):
    sources = list_sources()
    forms = {}
    for source in sources:
        assign = AssignForm(prefix=f"s{source.id}", formdata=None)
        assign.hospital.data = str(source.hospital_id or "")
        forms[source.id] = assign
    body = render_template("admin/sources.html", sources=sources, form=form, assign_forms=forms)
    return body, status


@bp.route("/sources")
@permission_required(USERS_MANAGE)
def sources():
    """Every source system and its hospital; unassigned ones first."""
    return _page(SourceForm(formdata=None))


@bp.route("/sources", methods=["POST"])
@permission_required(USERS_MANAGE)
def sources_register():
    """Register a source system under a hospital (or unassigned)."""
    form = SourceForm()
    if not form.validate_on_submit():
        return _page(form, 400)
    try:
        source = register_source(form.name.data, form.chosen_hospital(), form.description.data)
    except SourceError as exc:
        form.name.errors.append(str(exc))
        db.session.rollback()
        return _page(form, 400)
    record_event(
        "source.register",
        details={"source_system": source.name, "hospital": _code(source.hospital)},
    )
    flash(f"Source system {source.name} registered.")
    return redirect(url_for("admin.sources"), code=303)


@bp.route("/sources/<int:source_id>", methods=["POST"])
@permission_required(USERS_MANAGE)
def sources_assign(source_id: int):
    """Move a source system, and the patients it knows, to another hospital."""
    source = db.get_or_404(SourceSystem, source_id)
    form = AssignForm(prefix=f"s{source_id}")
    if not form.validate_on_submit():
        flash("Choose a hospital from the list.")
        return redirect(url_for("admin.sources"), code=303)
    old = _code(source.hospital)
    assign_source(source, form.chosen_hospital())
    record_event(
        "source.assign",
        details={"source_system": source.name, "old": old, "new": _code(source.hospital)},
    )
    owner = source.hospital.name if source.hospital else "no hospital (unassigned)"
    flash(f"{source.name} now belongs to {owner}.")
    return redirect(url_for("admin.sources"), code=303)
