"""Read views' audit rows commit without waiting for the WAL flush, and are never skipped."""

from datetime import date

from sqlalchemy import select, text

from tests.support.factories import make_patient
from webapp.database import insert_without_flush_wait
from webapp.models import AuditEvent
from webapp.services.audit.chain import event_content_hash
from webapp.services.audit.events import record_event


def test_every_read_view_leaves_its_audit_row_committed_before_the_response(doctor, db):
    patient = make_patient("Ana", "Audited", date(1980, 1, 1))
    for path in (f"/patients/{patient.id}", "/patients?name=audited", "/costs"):
        assert doctor.get(path).status_code == 200
    db.session.rollback()  # a fresh snapshot: only committed rows are visible
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-3:] == ["patients.chart_view", "patients.search", "costs.view"]


def test_relaxed_insert_sets_the_commit_mode_in_its_own_statement(db):
    event = record_event("test.relaxed", details={"page": 2}, durable=False)
    stored = db.session.get(AuditEvent, event.id)
    assert stored.action == "test.relaxed" and stored.details == {"page": 2}
    assert stored.row_hash == event.row_hash == event_content_hash(stored)

    values = {"action": "test.relaxed", "occurred_at": stored.occurred_at, "details": {}}
    new_id = insert_without_flush_wait(AuditEvent.__table__, values)
    assert db.session.scalar(text("SHOW synchronous_commit")) == "off"
    db.session.commit()
    assert db.session.scalar(text("SHOW synchronous_commit")) == "on"
    assert db.session.get(AuditEvent, new_id).action == "test.relaxed" and new_id > event.id
