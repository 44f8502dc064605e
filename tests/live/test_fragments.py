"""Pushes carry a chart's block only for charts open in this process, once per patient."""

from datetime import date

from sqlalchemy import select

from tests.support.factories import make_patient, make_record
from webapp.live.fragments import render_pushes
from webapp.models import PatientCost
from webapp.services.costs.live_events import CostChange
from webapp.services.costs.recompute import recompute_costs


def test_chart_blocks_only_for_open_charts_on_each_patients_last_change(app, db):
    ana, ben = make_patient(), make_patient(given="Ben", family="Ortiz")
    for patient, day in [(ana, date(2025, 1, 5)), (ana, date(2025, 2, 5)), (ben, date(2025, 1, 9))]:
        make_record(patient, day, "12.00")
    recompute_costs([ana.id, ben.id])
    db.session.commit()
    costs = db.session.scalars(select(PatientCost).order_by(PatientCost.id)).all()
    changes = [CostChange(c.id, c.patient_id, c.month, "INSERT") for c in costs]

    pushes = render_pushes(app, changes, own_session=False, charts={ana.id})
    assert [p.patient_id for p in pushes] == [ana.id, ana.id, ben.id]
    assert all(p.costs_html.startswith('<tbody id="cost-rows"') for p in pushes)
    assert [bool(p.chart_html) for p in pushes] == [False, True, False]
    assert 'id="chart-cost-total">24.00<' in pushes[1].chart_html

    assert not any(p.chart_html for p in render_pushes(app, changes, False, charts=set()))
