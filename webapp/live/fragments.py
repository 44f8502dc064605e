"""Cost changes rendered with the same row templates as the pages, as htmx out-of-band swaps."""

from flask import Flask, render_template
from sqlalchemy import select

from webapp.extensions import db
from webapp.live.messages import Push
from webapp.models import Patient, PatientCost
from webapp.services.costs.live_events import CostChange
from webapp.services.costs.table import row_of
from webapp.services.patients.scope import hospitals_of


def chart_month(cost: PatientCost) -> dict:
    """The context `clinic/_chart_cost_row.html` expects as `month`."""
    return {
        "patient_id": cost.patient_id,
        "month": cost.month,
        "total": cost.total_cost,
        "record_count": cost.record_count,
    }


def _oob(template: str, body_id: str, new: bool, **context) -> str:
    # A new row goes on top of the table body; a changed one replaces the row with its id.
    if new:
        row = render_template(template, oob=None, **context).strip()
        return f'<tbody id="{body_id}" hx-swap-oob="afterbegin">{row}</tbody>'
    return render_template(template, oob="outerHTML", **context).strip()


def render_pushes(app: Flask, changes: list[CostChange], own_session: bool) -> list[Push]:
    """One Push per change still in the database, rendered once for every socket."""
    if not changes:
        return []
    # A request context lets the row templates build their links without SERVER_NAME.
    with app.test_request_context("/"):
        try:
            rows = db.session.execute(
                select(PatientCost, Patient)
                .join(Patient, Patient.id == PatientCost.patient_id)
                .where(PatientCost.id.in_({c.id for c in changes}))
            ).all()
            found = {cost.id: (cost, patient) for cost, patient in rows}
            # One query per batch, not per socket: each socket filters on these ids alone.
            hospitals = hospitals_of(cost.patient_id for cost, _ in rows)
            pushes = []
            for change in changes:
                if change.id not in found:
                    continue  # deleted since: the next refresh shows that
                cost, patient = found[change.id]
                new = change.op == "INSERT"
                pushes.append(
                    Push(
                        patient_id=cost.patient_id,
                        hospital_ids=hospitals.get(cost.patient_id, frozenset()),
                        costs_html=_oob(
                            "clinic/_cost_row.html", "cost-rows", new, row=row_of(cost, patient)
                        ),
                        chart_html=_oob(
                            "clinic/_chart_cost_row.html",
                            "chart-cost-rows",
                            new,
                            month=chart_month(cost),
                        ),
                    )
                )
            return pushes
        finally:
            if own_session:  # the listener thread's session; never a caller's
                db.session.remove()
