"""Cost changes rendered with the same row templates as the pages, as htmx out-of-band swaps."""

from dataclasses import replace

from flask import Flask, render_template
from jinja2_fragments.flask import render_block
from sqlalchemy import select

from webapp.extensions import db
from webapp.live.messages import Push
from webapp.models import Patient, PatientCost
from webapp.services.costs.chart import cost_summary, load_series
from webapp.services.costs.live_events import CostChange
from webapp.services.costs.table import row_of
from webapp.services.patients.scope import hospitals_of


def chart_summary(patient: Patient) -> str:
    """The chart page's cost block (SVG, rows, total) re-rendered as an out-of-band swap."""
    summary = cost_summary(load_series(patient.id))
    return render_block(
        "clinic/chart.html", "cost_summary", live_swap=True, patient=patient, **summary
    ).strip()


def _oob(template: str, body_id: str, new: bool, **context) -> str:
    # A new row goes on top of the table body; a changed one replaces the row with its id.
    if new:
        row = render_template(template, oob=None, **context).strip()
        return f'<tbody id="{body_id}" hx-swap-oob="afterbegin">{row}</tbody>'
    return render_template(template, oob="outerHTML", **context).strip()


def render_pushes(
    app: Flask, changes: list[CostChange], own_session: bool, charts: set[int]
) -> list[Push]:
    """One Push per change still in the database, rendered once for every socket.

    A chart's block costs a query, so it is rendered only for the `charts` open in this process.
    """
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
                costs_html = _oob(
                    "clinic/_cost_row.html", "cost-rows", new, row=row_of(cost, patient)
                )
                pushes.append(
                    Push(
                        cost.patient_id,
                        costs_html,
                        chart_html="",
                        hospital_ids=hospitals.get(cost.patient_id, frozenset()),
                    )
                )
            # The chart's block is rendered once per open chart, on that patient's last push.
            patients = {patient.id: patient for _, patient in rows}
            last = {push.patient_id: index for index, push in enumerate(pushes)}
            for patient_id, index in last.items():
                if patient_id not in charts:
                    continue
                chart_html = chart_summary(patients[patient_id])
                pushes[index] = replace(pushes[index], chart_html=chart_html)
            return pushes
        finally:
            if own_session:  # the listener thread's session; never a caller's
                db.session.remove()
