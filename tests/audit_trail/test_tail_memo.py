"""The audit page's tail check: new links verified on every view, the whole window when stale."""

import re

import pytest
from sqlalchemy import func, select, text

from webapp.models import AuditSeal
from webapp.services.audit.events import record_event
from webapp.services.audit.sealing import seal
from webapp.services.audit.trail_state import TAIL_MEMO_KEY


def state(client) -> str:
    html = client.get("/admin/audit").get_data(as_text=True)
    found = re.search(r'<dl class="card" id="trail-state">(.*?)</dl>', html, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1)))


def as_superuser_without_triggers(db, statement: str, **params) -> None:
    """What only a superuser can do: switch the append-only triggers off and change rows."""
    db.session.execute(text("SET LOCAL session_replication_role = replica"))
    db.session.execute(text(statement), params)
    db.session.commit()


def newest_sealed(db) -> int:
    return db.session.scalar(select(func.max(AuditSeal.event_id)))


@pytest.fixture
def fresh_for(app, monkeypatch):
    """Set how long a whole-tail walk stands, starting from no remembered walk."""
    monkeypatch.delitem(app.extensions, TAIL_MEMO_KEY, raising=False)

    def set_seconds(seconds: float) -> None:
        monkeypatch.setitem(app.config, "AUDIT_TAIL_FRESH_SECONDS", seconds)

    return set_seconds


def _sealed_row_seen_intact(client, auth, fresh_for) -> None:
    """AIPHAS signed in, one new row sealed, and the audit page's walk (fresh for an hour) found
    the tail intact."""
    fresh_for(3600)
    auth.login("AIPHAS")
    record_event("test.memo", details={"n": 1})
    seal()
    assert "intact" in state(client)


def test_links_sealed_after_a_fresh_walk_are_verified(client, auth, db, fresh_for):
    fresh_for(3600)
    auth.login("AIPHAS")
    seal()
    assert "intact" in state(client)
    record_event("test.memo", details={"n": 1})
    seal()
    bad = newest_sealed(db)
    as_superuser_without_triggers(db, "UPDATE audit_event SET action = 'x' WHERE id = :id", id=bad)
    assert f"broken at row {bad}" in state(client)
    assert f"broken at row {bad}" in state(client)  # a broken verdict is never remembered


def test_a_row_changed_after_its_check_shows_once_the_walk_is_stale(client, auth, db, fresh_for):
    _sealed_row_seen_intact(client, auth, fresh_for)
    bad = newest_sealed(db)
    as_superuser_without_triggers(db, "UPDATE audit_event SET action = 'x' WHERE id = :id", id=bad)
    assert "intact" in state(client)  # checked within the window: this view walks only new links
    fresh_for(0)
    assert f"broken at row {bad}" in state(client)


def test_a_rewritten_remembered_head_walks_the_whole_tail(client, auth, db, fresh_for):
    _sealed_row_seen_intact(client, auth, fresh_for)
    head = db.session.scalar(select(func.max(AuditSeal.seq)))
    bad = newest_sealed(db)
    as_superuser_without_triggers(
        db, "UPDATE audit_seal SET link = repeat('f', 64) WHERE seq = :seq", seq=head
    )
    record_event("test.memo", details={"n": 2})
    seal()
    assert f"broken at row {bad}" in state(client)
