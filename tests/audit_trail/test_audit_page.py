"""/admin/audit shows the chain's state; requests and the Scheduler hook seal the trail."""

import re

from sqlalchemy import func, select, text

from webapp.models import AuditSeal
from webapp.services.audit.events import record_event
from webapp.services.audit.sealing import seal
from webapp.services.audit.verify import verify_and_record


def state(html: str) -> str:
    found = re.search(r'<dl class="card" id="trail-state">(.*?)</dl>', html, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1)))


def test_audit_page_shows_sealed_id_and_intact_chain(client, auth, db):
    auth.login("AIPHAS")
    seal()
    verify_and_record()
    shown = state(client.get("/admin/audit").get_data(as_text=True))
    through = db.session.scalar(select(func.max(AuditSeal.event_id)))
    assert f"up to id {through}" in shown and "intact" in shown and "broken" not in shown
    assert "Last full verification" in shown and "never" not in shown


def test_audit_page_shows_a_broken_chain(client, auth, db):
    auth.login("AIPHAS")
    record_event("test.page", details={"x": 1})
    seal()
    bad = db.session.scalar(select(func.max(AuditSeal.event_id)))
    db.session.execute(text("SET LOCAL session_replication_role = replica"))
    db.session.execute(text("UPDATE audit_event SET action = 'quiet' WHERE id = :id"), {"id": bad})
    db.session.commit()
    shown = state(client.get("/admin/audit").get_data(as_text=True))
    assert f"broken at row {bad}" in shown


def test_rows_are_sealed_once_responses_are_sent(app, client, auth, db, monkeypatch):
    monkeypatch.setitem(app.config, "AUDIT_SEAL_SECONDS", 0)
    auth.login("DOCTOR")
    response = client.get("/patients?q=smith")
    response.close()  # the server closes each response after sending it
    unsealed = text(
        "SELECT count(*) FROM audit_event e WHERE NOT EXISTS "
        "(SELECT 1 FROM audit_seal s WHERE s.event_id = e.id)"
    )
    assert db.session.scalar(unsealed) == 0
    assert db.session.scalar(select(func.count()).select_from(AuditSeal)) >= 2
