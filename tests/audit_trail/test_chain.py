"""The hash chain over audit rows: sealing, verification, and tampering caught by row id."""

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from webapp.models import AuditEvent, AuditSeal
from webapp.services.audit.chain import event_content_hash
from webapp.services.audit.events import record_event
from webapp.services.audit.sealing import seal as seal_now
from webapp.services.audit.verify import verify as verify_chain


def write_rows(count: int) -> list[int]:
    ids = [record_event("test.chain", details={"n": n, "name": "Zoë"}).id for n in range(count)]
    return ids


def as_superuser_without_triggers(db, statement: str, **params) -> None:
    """What only a superuser can do: switch the append-only triggers off and change rows."""
    db.session.execute(text("SET LOCAL session_replication_role = replica"))
    db.session.execute(text(statement), params)
    db.session.commit()


def seal(runner):
    result = runner.invoke(args=["audit", "seal"])
    assert result.exit_code == 0, result.output
    return result.output


def verify(runner):
    return runner.invoke(args=["audit", "verify"])


def test_rows_are_hashed_when_written(db):
    event = record_event("test.chain", details={"b": [1, 2], "a": "x"})
    db.session.expire_all()
    stored = db.session.get(AuditEvent, event.id)
    assert stored.row_hash == event_content_hash(stored) and len(stored.row_hash) == 64


def test_seal_is_idempotent_and_verify_counts_rows(runner, db):
    write_rows(5)
    db.session.add(AuditEvent(action="written.without.hash", occurred_at=datetime.now(UTC)))
    db.session.commit()
    assert "Sealed 6 audit rows; sealed up to id 6." in seal(runner)
    links = list(db.session.scalars(select(AuditSeal.link).order_by(AuditSeal.seq)))
    assert "Sealed 0 audit rows" in seal(runner)
    assert list(db.session.scalars(select(AuditSeal.link).order_by(AuditSeal.seq))) == links
    result = verify(runner)
    assert result.exit_code == 0 and "6 rows checked" in result.output


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE audit_event SET details = '{\"n\": 99}' WHERE id = :bad",
        "UPDATE audit_event SET occurred_at = occurred_at + interval '1 second' WHERE id = :bad",
        "DELETE FROM audit_event WHERE id = :bad",
    ],
    ids=["altered-details", "altered-time", "deleted"],
)
def test_verify_names_the_first_altered_or_deleted_row(runner, db, tamper):
    ids = write_rows(6)
    seal(runner)
    as_superuser_without_triggers(db, tamper, bad=ids[3])
    result = verify(runner)
    assert result.exit_code == 1
    assert f"first bad row id {ids[3]}" in result.output


def test_verify_catches_reordered_rows(runner, db):
    ids = write_rows(6)
    seal(runner)
    # Swap two sealed rows' places in the id order.
    as_superuser_without_triggers(db, "UPDATE audit_event SET id = -1 WHERE id = :a", a=ids[2])
    as_superuser_without_triggers(
        db, "UPDATE audit_event SET id = :a WHERE id = :b", a=ids[2], b=ids[3]
    )
    as_superuser_without_triggers(db, "UPDATE audit_event SET id = :b WHERE id = -1", b=ids[3])
    result = verify(runner)
    assert result.exit_code == 1 and f"first bad row id {ids[2]}" in result.output


def test_verify_catches_a_removed_seal_and_a_cut_off_end(runner, db):
    ids = write_rows(6)
    seal(runner)
    assert verify(runner).exit_code == 0  # remembers the chain's head
    last = ids[-1]
    as_superuser_without_triggers(db, "DELETE FROM audit_seal WHERE event_id = :id", id=last)
    as_superuser_without_triggers(db, "DELETE FROM audit_event WHERE id = :id", id=last)
    result = verify(runner)
    assert result.exit_code == 1 and f"first bad row id {last}" in result.output
    as_superuser_without_triggers(db, "DELETE FROM audit_seal WHERE event_id = :id", id=ids[1])
    result = verify(runner)
    assert result.exit_code == 1 and f"first bad row id {ids[2]}" in result.output


def test_a_row_changed_before_sealing_fails_verification(runner, db):
    ids = write_rows(3)
    change = "UPDATE audit_event SET action = 'x' WHERE id = :id"
    as_superuser_without_triggers(db, change, id=ids[1])
    seal(runner)
    result = verify(runner)
    assert result.exit_code == 1 and f"first bad row id {ids[1]}" in result.output


def test_a_row_committed_late_below_the_sealed_id_is_sealed_next(runner, db):
    late = AuditEvent(id=50, action="late", occurred_at=datetime.now(UTC))
    db.session.add(AuditEvent(id=100, action="early", occurred_at=datetime.now(UTC)))
    db.session.commit()
    seal(runner)
    db.session.add(late)
    db.session.commit()
    assert "Sealed 1 audit rows; sealed up to id 100." in seal(runner)
    order = list(db.session.scalars(select(AuditSeal.event_id).order_by(AuditSeal.seq)))
    assert order == [100, 50] and verify(runner).exit_code == 0


def test_two_sealers_at_once_seal_each_row_once(data_app, db):
    write_rows(300)
    errors = []

    def sealer():
        with data_app.app_context():
            try:
                seal_now(batch=7)
            except Exception as exc:
                errors.append(exc)

    threads = [threading.Thread(target=sealer) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert db.session.scalar(select(func.count()).select_from(AuditSeal)) == 300
    assert verify_chain().intact


def test_truncate_is_refused_even_to_the_owner(db):
    record_event("test.chain")
    for table in ("audit_event", "audit_seal", "audit_check"):
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(f"TRUNCATE {table}"))
        db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 1


def test_a_frequent_pass_finds_late_rows_near_the_end_and_a_full_pass_finds_all(db, monkeypatch):
    monkeypatch.setattr("webapp.services.audit.sealing.LOOKBACK", 100)
    db.session.add(AuditEvent(id=1000, action="end", occurred_at=datetime.now(UTC)))
    db.session.commit()
    seal_now()
    for late in (950, 10):  # one inside the look-back window, one far below it
        db.session.add(AuditEvent(id=late, action="late", occurred_at=datetime.now(UTC)))
    db.session.commit()
    assert seal_now(full=False) == 1
    assert seal_now(full=True) == 1
    order = list(db.session.scalars(select(AuditSeal.event_id).order_by(AuditSeal.seq)))
    assert order == [1000, 950, 10] and verify_chain().intact
